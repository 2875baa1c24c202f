import { pathToFileURL } from 'node:url'

/** @type {any} */
let core

// TIERCACHE_CORE_MODULE=/path/to/module.mjs measures another build of core (e.g. a working tree
// bundled with esbuild) instead of the workspace package's dist.
const override = process.env.TIERCACHE_CORE_MODULE

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'tiercache',
  label: override ? '@tiercache/core (memoryStore, TIERCACHE_CORE_MODULE)' : '@tiercache/core (memoryStore)',
  packages: ['@tiercache/core'],
  swr: true,
  usage: '`cache.getOrSet(k, loader)` on `createCache({ tiers: [memoryStore({ maxEntries })], policy: { ttl, swr? } })`, loader `(ctx) => load(ctx.key)`',
  async probe() {
    core = override ? await import(pathToFileURL(override).href) : await import('@tiercache/core')
    if (typeof core.createCache !== 'function' || typeof core.memoryStore !== 'function') {
      throw new Error('@tiercache/core does not export createCache and memoryStore yet')
    }
  },
  async create({ ttlMs, swrMs, maxEntries, load }) {
    /** @type {Record<string, number>} */
    const policy = { ttl: ttlMs }
    if (swrMs !== undefined) policy.swr = swrMs
    const cache = core.createCache({ tiers: [core.memoryStore({ maxEntries })], policy })
    const loader = (/** @type {{ key: string }} */ ctx) => load(ctx.key)
    return { getOrSet: (key) => cache.getOrSet(key, loader) }
  },
}
