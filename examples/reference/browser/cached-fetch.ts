// packages/browser/README.md, "createCachedFetch".
import { createCachedFetch } from '@tiercache/browser'
import type { Cache } from '@tiercache/core'

export async function useCachedFetch(cache: Cache, body: string) {
  const cachedFetch = createCachedFetch({
    cache,                                        // default: memoryStore() + indexedDbStore(), indexedDbCoordinator()
    policy: { ttl: '30s', swr: '5m', tags: ['api'] }, // only for responses that say nothing about caching
  })
  await cachedFetch('/api/products')                            // stored per its Cache-Control
  await cachedFetch('/api/products', { cache: 'no-cache' })     // revalidate now (If-None-Match)
  await cachedFetch('/api/products', { method: 'POST', body })  // network; then the stored GET is dropped
  await cache.invalidateTags(['api'])                           // every response stored under the policy's tags
}
