/** @type {typeof import('lru-cache').LRUCache} */
let LRUCache

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'lru-cache-get',
  label: 'lru-cache get (async-wrapped)',
  packages: ['lru-cache'],
  swr: 'measured through lru-cache fetch instead',
  usage: 'async fn around `lru.get(k)`, `lru.set(k, await load(k))` on a miss; `new LRUCache({ max, ttl })` (no coalescing)',
  async probe() {
    ;({ LRUCache } = await import('lru-cache'))
  },
  async create({ ttlMs, maxEntries, load }) {
    const lru = new LRUCache({ max: maxEntries, ttl: ttlMs })
    return {
      async getOrSet(key) {
        let value = lru.get(key)
        if (value === undefined) {
          value = await load(key)
          lru.set(key, value)
        }
        return value
      },
    }
  },
}
