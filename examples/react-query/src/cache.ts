// examples/react-query: the cache, the persister and the QueryClient (packages/browser/README.md, "TanStack Query").
import { broadcastInvalidation, createCachedFetch, indexedDbCoordinator, indexedDbStore } from '@tiercache/browser'
import { createQueryPersister } from '@tiercache/browser/tanstack-query'
import { createCache, memoryStore } from '@tiercache/core'
import { QueryClient } from '@tanstack/react-query'

export function setup(dbName = 'react-query-example') {
  const idb = indexedDbStore({ dbName, maxEntries: 20_000 })
  const cache = createCache({
    tiers: [memoryStore({ maxEntries: 1_000 }), idb],
    coordinator: indexedDbCoordinator({ dbName }), // tag invalidations outlive the page, as the entries do
  })
  broadcastInvalidation(cache, { channel: dbName }) // other tabs hear this one's writes and invalidations

  // One IndexedDB entry per query, kept a day, tagged by the first element of its key.
  const persister = createQueryPersister({
    cache,
    policy: { ttl: '1d' },
    tags: (queryKey) => [String(queryKey[0])],
    channel: dbName,
  })
  const queryClient = new QueryClient({
    defaultOptions: { queries: { persister: persister.persisterFn, staleTime: 60_000, gcTime: 300_000 } },
  })
  persister.connect(queryClient) // invalidateTags and the other tabs' results reach the queries in memory

  // For the hooks of @tiercache/browser/react (<CacheProvider cache={cache} fetch={cachedFetch}>).
  const cachedFetch = createCachedFetch({ cache })

  return { cache, idb, persister, queryClient, cachedFetch }
}
