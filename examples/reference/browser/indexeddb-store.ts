// packages/browser/README.md, "indexedDbStore".
import { indexedDbStore } from '@tiercache/browser'
import { createCache, memoryStore } from '@tiercache/core'

export interface User {
  id: string
  name: string
}

export async function userFromCache(api: { user(id: string): Promise<User> }, id: string) {
  const idb = indexedDbStore({ dbName: 'my-app', maxEntries: 2_000, maxTtl: '1d' })
  const cache = createCache({ tiers: [memoryStore(), idb], policy: { ttl: '10m' } })
  const user = await cache.getOrSet(`user:${id}`, () => api.user(id)) // after a reload: answered by IndexedDB
  await cache.idle() // the IndexedDB write of a load happens in the background: let it finish before closing
  await idb.close()
  return user
}
