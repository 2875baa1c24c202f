import { pathToFileURL } from 'node:url'

/** @type {any} */
let core

// TIERCACHE_CORE_MODULE=/path/to/module.mjs measures another build of core (e.g. a working tree
// bundled with esbuild) instead of the workspace package's dist.
const override = process.env.TIERCACHE_CORE_MODULE

/** Core itself, imported once (the workspace build, or TIERCACHE_CORE_MODULE). */
export async function loadCore() {
  core ??= override ? await import(pathToFileURL(override).href) : await import('@tiercache/core')
  if (typeof core.createCache !== 'function' || typeof core.memoryStore !== 'function') {
    throw new Error('@tiercache/core does not export createCache and memoryStore yet')
  }
  return core
}

/**
 * The tiercache adapter with a memoryStore evicting by `eviction` (undefined: the store's default, LRU).
 * @param {'lru' | 'lfu' | 'fifo' | undefined} eviction
 * @returns {import('./types.mjs').Adapter}
 */
export function tiercacheAdapter(eviction) {
  const store = eviction === undefined ? 'memoryStore' : `memoryStore, eviction '${eviction}'`
  return {
    id: eviction === undefined ? 'tiercache' : `tiercache-${eviction}`,
    label: `@tiercache/core (${store}${override ? ', TIERCACHE_CORE_MODULE' : ''})`,
    packages: ['@tiercache/core'],
    swr: true,
    usage: `\`cache.getOrSet(k, loader)\` on \`createCache({ tiers: [memoryStore({ maxEntries${eviction === undefined ? '' : `, eviction: '${eviction}'`} })], policy: { ttl, swr? } })\`, loader \`(ctx) => load(ctx.key)\``,
    async probe() {
      await loadCore()
    },
    async create({ ttlMs, swrMs, maxEntries, load }) {
      /** @type {Record<string, number>} */
      const policy = { ttl: ttlMs }
      if (swrMs !== undefined) policy.swr = swrMs
      const options = eviction === undefined ? { maxEntries } : { maxEntries, eviction }
      const cache = core.createCache({ tiers: [core.memoryStore(options)], policy })
      const loader = (/** @type {{ key: string }} */ ctx) => load(ctx.key)
      return { getOrSet: (/** @type {string} */ key) => cache.getOrSet(key, loader) }
    },
  }
}

/** @type {import('./types.mjs').Adapter} */
export default tiercacheAdapter(undefined)
