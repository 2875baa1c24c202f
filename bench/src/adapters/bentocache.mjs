/** @type {typeof import('bentocache').BentoCache} */
let BentoCache
/** @type {typeof import('bentocache').bentostore} */
let bentostore
/** @type {typeof import('bentocache/drivers/memory').memoryDriver} */
let memoryDriver

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'bentocache',
  label: 'bentocache (memory driver)',
  packages: ['bentocache'],
  swr: true,
  usage: '`bento.getOrSet({ key, factory: () => load(k), ttl })`, one L1 memory driver `memoryDriver({ maxItems, serialize: false })`; for stale reads `grace` = swr window (default soft timeout 0: graced value returned at once, factory in the background)',
  async probe() {
    ;({ BentoCache, bentostore } = await import('bentocache'))
    ;({ memoryDriver } = await import('bentocache/drivers/memory'))
  },
  async create({ ttlMs, swrMs, maxEntries, load }) {
    const bento = new BentoCache({
      default: 'memory',
      stores: {
        memory: bentostore().useL1Layer(memoryDriver({ maxItems: maxEntries, serialize: false })),
      },
    })
    const grace = swrMs ?? false
    return {
      getOrSet: (key) => bento.getOrSet({ key, factory: () => load(key), ttl: ttlMs, grace }),
      close: () => bento.disconnectAll(),
    }
  },
}
