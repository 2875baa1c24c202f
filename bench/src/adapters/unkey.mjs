/** @type {typeof import('@unkey/cache')} */
let unkey
/** @type {typeof import('@unkey/cache/stores').MemoryStore} */
let MemoryStore

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'unkey',
  label: '@unkey/cache (memory store)',
  packages: ['@unkey/cache'],
  swr: true,
  usage: '`cache.ns.swr(k, load)` (returns a Result; `.val` unwrapped, `.err` thrown) on a Namespace with one `MemoryStore({ persistentMap: new Map() })` (unbounded), fresh = ttl, stale = ttl + swr (its stale is counted from the write)',
  async probe() {
    unkey = await import('@unkey/cache')
    ;({ MemoryStore } = await import('@unkey/cache/stores'))
  },
  async create({ ttlMs, swrMs, load }) {
    const ctx = new unkey.DefaultStatefulContext()
    const memory = new MemoryStore({ persistentMap: new Map() })
    const cache = unkey.createCache({
      ns: new unkey.Namespace(ctx, { stores: [memory], fresh: ttlMs, stale: ttlMs + (swrMs ?? 0) }),
    })
    return {
      async getOrSet(key) {
        const result = await cache.ns.swr(key, load)
        if (result.err) throw result.err
        return result.val
      },
    }
  },
}
