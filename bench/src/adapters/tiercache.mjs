/** @type {any} */
let core

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'tiercache',
  label: '@tiercache/core (memoryStore)',
  packages: ['@tiercache/core'],
  swr: true,
  usage: '`cache.getOrSet(k, loader)` on `createCache({ tiers: [memoryStore({ maxEntries })], policy: { ttl, swr? } })`, loader `(ctx) => load(ctx.key)`',
  async probe() {
    core = await import('@tiercache/core')
    if (typeof core.createCache !== 'function' || typeof core.memoryStore !== 'function') {
      throw new Error('@tiercache/core does not export createCache and memoryStore yet')
    }
  },
  async create({ ttlMs, swrMs, maxEntries, load }) {
    /** @type {Record<string, number>} */
    const policy = { ttl: ttlMs }
    if (swrMs !== undefined) policy.swr = swrMs
    const cache = core.createCache({ tiers: [core.memoryStore({ maxEntries })], policy })
    const loader = (ctx) => load(ctx.key)
    return { getOrSet: (key) => cache.getOrSet(key, loader) }
  },
}
