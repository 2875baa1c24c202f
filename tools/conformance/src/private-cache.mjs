// The private-cache target: createCachedFetch in Node over a memory tier, the suite's client in browser-cache mode.
import { createCachedFetch } from '@tiercache/browser'
import { createCache, memoryStore } from '@tiercache/core'

/** @param {string} origin */
export async function start(origin) {
  const cache = createCache({ tiers: [memoryStore()] })
  return {
    fetch: createCachedFetch({ cache }),
    baseUrl: origin,
    describe: 'createCachedFetch({ cache: createCache({ tiers: [memoryStore()] }) }) over undici 7 fetch, no policy',
    async stop() {},
  }
}
