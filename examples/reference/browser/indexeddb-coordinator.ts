// packages/browser/README.md, "indexedDbCoordinator".
import { indexedDbCoordinator, indexedDbStore } from '@tiercache/browser'
import { createCache, memoryStore } from '@tiercache/core'

export function createAppCache() {
  const cache = createCache({
    tiers: [memoryStore(), indexedDbStore({ dbName: 'my-app' })],
    coordinator: indexedDbCoordinator({ dbName: 'my-app' }),
  })
  return cache
}

export async function dropProducts() {
  const cache = createAppCache()
  await cache.invalidateTags(['products']) // resolves once the stamp is written; after a reload, still invalidated
  return cache
}
