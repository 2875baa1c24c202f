// The page of the query-persist scenario: TanStack Query (query-core, no React: only the persister is compared)
// restoring `shown` queries among `persisted` after a reload, with one of two persisters.
//   mode=tiercache  createQueryPersister (@tiercache/browser/tanstack-query): one IndexedDB entry per query, read
//                   when its query mounts.
//   mode=tanstack   TanStack's whole-cache persister: persistQueryClientRestore + createAsyncStoragePersister on
//                   idb-keyval (the setup TanStack documents for IndexedDB), restored before the queries mount.
// On load it mounts the shown queries and, once all have data, publishes `window.result`: time to data, the main
// thread's long tasks until then, and how many requests reached the server.
import { QueryClient, QueryObserver } from '@tanstack/query-core'
import { createAsyncStoragePersister } from '@tanstack/query-async-storage-persister'
import { persistQueryClientRestore, persistQueryClientSave } from '@tanstack/query-persist-client-core'
import { indexedDbStore } from '@tiercache/browser'
import { createQueryPersister } from '@tiercache/browser/tanstack-query'
import { createCache, memoryStore, namespacePrefix } from '@tiercache/core'
import { createEntry } from '@tiercache/core/store'
import { createStore, del, get, set } from 'idb-keyval'

/** @type {{ duration: number, start: number }[]} */
const tasks = []
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) tasks.push({ start: entry.startTime, duration: entry.duration })
}).observe({ type: 'longtask', buffered: true })

const params = new URLSearchParams(location.search)
const mode = params.get('mode') ?? 'tiercache'
const dbName = params.get('db') ?? 'bench-query'
const shown = Number(params.get('shown') ?? 50)
const DAY = 86_400_000

/** What the API answers for product `id` (the same bytes whether fetched or persisted). */
const product = (/** @type {number} */ id) => ({
  id,
  name: `product ${id}`,
  price: 1000 + id,
  tags: ['bench', 'browser', 'query'],
  description: 'A fixed document of a few hundred bytes, as a small API answer would be.',
})

let requests = 0
/** @param {{ queryKey: readonly unknown[] }} context */
const queryFn = async ({ queryKey }) => {
  requests++
  return (await fetch(`/api/product?id=${queryKey[1]}`)).json()
}

/** @type {QueryClient} */
let queryClient
/** @type {Promise<unknown>} */
let restored = Promise.resolve()
/** @type {(n: number) => Promise<void>} */
let persistMany

if (mode === 'tiercache') {
  const idb = indexedDbStore({ dbName, maxEntries: 20_000 })
  const cache = createCache({ tiers: [memoryStore(), idb], policy: { ttl: '1d' } })
  const persister = createQueryPersister({ cache, tags: (queryKey) => [String(queryKey[0])] })
  queryClient = new QueryClient({ defaultOptions: { queries: { persister: persister.persisterFn, staleTime: DAY, gcTime: DAY } } })
  persistMany = async (n) => {
    const prefix = namespacePrefix(cache.namespace)
    const policy = cache.resolvePolicy({ ttl: '1d', tags: ['products'] })
    const now = Date.now()
    for (let at = 0; at < n; at += 500) {
      const batch = []
      for (let id = at; id < Math.min(n, at + 500); id++) {
        const queryKey = ['products', id]
        const queryHash = JSON.stringify(queryKey)
        const state = { data: product(id), dataUpdatedAt: now, dataUpdateCount: 1, error: null, errorUpdatedAt: 0, errorUpdateCount: 0, fetchFailureCount: 0, fetchFailureReason: null, fetchMeta: null, isInvalidated: false, status: 'success', fetchStatus: 'idle' }
        batch.push(/** @type {const} */ ([`${prefix}tq:tanstack-query-${queryHash}`, createEntry({ buster: '', queryHash, queryKey, state }, policy, now, 1, Math.random)]))
      }
      await idb.setMany(batch)
    }
  }
} else {
  const store = createStore(dbName, 'keyval')
  const persister = createAsyncStoragePersister({
    storage: { getItem: (key) => get(key, store), setItem: (key, value) => set(key, value, store), removeItem: (key) => del(key, store) },
    throttleTime: 0,
  })
  queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: DAY, gcTime: DAY } } })
  restored = persistQueryClientRestore({ queryClient, persister, maxAge: DAY })
  persistMany = async (n) => {
    for (let id = 0; id < n; id++) queryClient.setQueryData(['products', id], product(id))
    await persistQueryClientSave({ queryClient, persister })
  }
}

async function mountShown() {
  await restored
  await Promise.all(
    Array.from({ length: shown }, (_, id) => {
      const observer = new QueryObserver(queryClient, { queryKey: ['products', id], queryFn })
      return new Promise((resolve) => {
        const check = () => {
          if (observer.getCurrentResult().data !== undefined) resolve(undefined)
        }
        observer.subscribe(check)
        check()
      })
    }),
  )
  const doneAt = performance.now()
  // Long tasks are reported a little after they end: give the observer a frame.
  await new Promise((resolve) => setTimeout(resolve, 50))
  const before = tasks.filter((t) => t.start < doneAt)
  return {
    timeToData: doneAt,
    blocking: before.reduce((sum, t) => sum + Math.max(0, t.duration - 50), 0),
    longest: before.reduce((max, t) => Math.max(max, t.duration), 0),
    requests,
  }
}

const g = /** @type {any} */ (globalThis)
g.bench = { persistMany: (/** @type {number} */ n) => persistMany(n) }
mountShown().then(
  (result) => {
    g.result = result
  },
  (error) => {
    g.result = { error: String(error) }
  },
)
