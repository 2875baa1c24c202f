/** @type {typeof import('lru-cache').LRUCache} */
let LRUCache

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'lru-cache-fetch',
  label: 'lru-cache fetch',
  packages: ['lru-cache'],
  swr: true,
  usage: '`lru.fetch(k)` with `fetchMethod: (k) => load(k)`, `new LRUCache({ max, ttl })`; for stale reads `allowStale: true` (its stale window is unbounded)',
  async probe() {
    ;({ LRUCache } = await import('lru-cache'))
  },
  async create({ ttlMs, swrMs, maxEntries, load }) {
    /** @type {InstanceType<typeof LRUCache<string, any>>} */
    const lru = new LRUCache({
      max: maxEntries,
      ttl: ttlMs,
      allowStale: swrMs !== undefined,
      fetchMethod: (key) => load(key),
    })
    return { getOrSet: (key) => lru.fetch(key) }
  },
}
