// packages/browser/README.md, "Setup".
import { broadcastInvalidation, createCachedFetch, indexedDbCoordinator, indexedDbStore } from '@tiercache/browser'
import { createCache, memoryStore } from '@tiercache/core'

// L1 in memory (this tab), L2 in IndexedDB (every tab of the origin, survives reloads).
const cache = createCache({
  tiers: [memoryStore({ maxEntries: 500 }), indexedDbStore({ dbName: 'my-app', maxEntries: 2_000, maxTtl: '1d' })],
  // Tag invalidation times in IndexedDB too (database 'my-app-tags'): they hold after a reload.
  coordinator: indexedDbCoordinator({ dbName: 'my-app' }),
  policy: { ttl: '5m', swr: '1m' },
})

// Fills, deletes and tag invalidations in one tab reach the memory tier of every other tab.
const sync = broadcastInvalidation(cache)

// A fetch that caches GET/HEAD responses the way the server's headers say.
export const cachedFetch = createCachedFetch({ cache })

export async function products(): Promise<Response> {
  const res = await cachedFetch('/api/products')
  res.headers.get('cache-status') // 'tiercache; hit; ttl=42; detail=memory'
  return res
}

export { cache, sync }
