/** @type {typeof import('@epic-web/cachified').cachified} */
let cachified
/** @type {typeof import('@epic-web/cachified').totalTtl} */
let totalTtl
/** @type {typeof import('lru-cache').LRUCache} */
let LRUCache

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'cachified',
  label: '@epic-web/cachified (lru-cache backend)',
  packages: ['@epic-web/cachified', 'lru-cache'],
  swr: true,
  usage: '`cachified({ key, cache, getFreshValue: () => load(k), ttl, staleWhileRevalidate })` over an lru-cache backend that sets each entry\'s lru ttl to cachified\'s total ttl (the adapter shape its README documents)',
  async probe() {
    ;({ cachified, totalTtl } = await import('@epic-web/cachified'))
    ;({ LRUCache } = await import('lru-cache'))
  },
  async create({ ttlMs, swrMs, maxEntries, load }) {
    /** @type {InstanceType<typeof LRUCache<string, import('@epic-web/cachified').CacheEntry>>} */
    const lru = new LRUCache({ max: maxEntries })
    /** @type {import('@epic-web/cachified').Cache} */
    const backend = {
      get: (key) => lru.get(key),
      set(key, entry) {
        const ttl = totalTtl(entry?.metadata)
        lru.set(key, entry, {
          ttl: ttl === Infinity ? undefined : ttl,
          start: entry?.metadata?.createdTime,
        })
      },
      delete: (key) => lru.delete(key),
    }
    const staleWhileRevalidate = swrMs ?? 0
    return {
      getOrSet: (key) =>
        cachified({ key, cache: backend, getFreshValue: () => load(key), ttl: ttlMs, staleWhileRevalidate }),
    }
  },
}
