// The TanStack Query persister with the real @tanstack/query-core QueryClient under Node (fake IndexedDB): a new
// QueryClient on the same database stands for a reload.
import { createCache, memoryStore, type Cache } from '@tiercache/core'
import { QueryClient, QueryObserver } from '@tanstack/query-core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { indexedDbCoordinator } from './indexeddb-coordinator.js'
import { indexedDbStore } from './indexeddb-store.js'
import { createQueryPersister, type QueryPersister } from './tanstack-query.js'

const open: { close(): unknown }[] = []
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close()
})

/** One "page load": a cache on the database, a persister and a QueryClient using it. */
function page(dbName: string) {
  const idb = indexedDbStore({ dbName })
  const coordinator = indexedDbCoordinator({ dbName })
  open.push(idb, coordinator)
  const cache = createCache({ tiers: [memoryStore(), idb], coordinator, policy: { ttl: '1h' } })
  const persister = createQueryPersister({ cache, tags: (key) => [String(key[0])], channel: `tq-${dbName}` })
  open.push(persister)
  const queryClient = new QueryClient({ defaultOptions: { queries: { persister: persister.persisterFn, staleTime: 60_000, retry: false } } })
  open.push({ close: () => queryClient.clear() })
  return { cache, persister, queryClient }
}

/** Mounts an observer (as useQuery would) and resolves with its first data. */
async function observe(queryClient: QueryClient, queryKey: unknown[], queryFn: () => Promise<unknown>) {
  const observer = new QueryObserver(queryClient, { queryKey, queryFn })
  const unsubscribe = observer.subscribe(() => {})
  open.push({ close: unsubscribe })
  await vi.waitFor(() => expect(observer.getCurrentResult().status).toBe('success'), { timeout: 10_000 })
  return observer
}

describe('createQueryPersister', () => {
  it('a reloaded page restores a query from IndexedDB without calling its queryFn', async () => {
    const dbName = `tq-${crypto.randomUUID()}`
    const first = page(dbName)
    const fetchProduct = vi.fn(async () => ({ id: 1, name: 'shoe' }))
    await observe(first.queryClient, ['products', 1], fetchProduct)
    await vi.waitFor(async () => expect(await first.persister.storage.getItem(`tanstack-query-${JSON.stringify(['products', 1])}`)).toBeDefined(), { timeout: 10_000 })

    const reloaded = page(dbName)
    const again = vi.fn(async () => ({ id: 1, name: 'boot' }))
    const observer = await observe(reloaded.queryClient, ['products', 1], again)
    expect(observer.getCurrentResult().data).toEqual({ id: 1, name: 'shoe' })
    expect(again).not.toHaveBeenCalled()
  })

  it('invalidateTags kills persisted queries that are not loaded: the next page load fetches them', async () => {
    const dbName = `tq-${crypto.randomUUID()}`
    const first = page(dbName)
    await observe(first.queryClient, ['products', 2], async () => 'old')
    await observe(first.queryClient, ['users', 1], async () => 'ada')
    await vi.waitFor(async () => expect(await first.persister.storage.getItem(`tanstack-query-${JSON.stringify(['users', 1])}`)).toBeDefined(), { timeout: 10_000 })
    await first.cache.invalidateTags(['products'])

    const reloaded = page(dbName)
    const product = vi.fn(async () => 'new')
    const user = vi.fn(async () => 'ada again')
    expect((await observe(reloaded.queryClient, ['products', 2], product)).getCurrentResult().data).toBe('new')
    expect((await observe(reloaded.queryClient, ['users', 1], user)).getCurrentResult().data).toBe('ada')
    expect(product).toHaveBeenCalledTimes(1)
    expect(user).not.toHaveBeenCalled()
  })

  it('connect: invalidateTags refetches the loaded queries carrying the tag, and only those', async () => {
    const { cache, persister, queryClient } = page(`tq-${crypto.randomUUID()}`)
    persister.connect(queryClient)
    let version = 1
    const products = await observe(queryClient, ['products'], async () => `v${version}`)
    const users = vi.fn(async () => 'users')
    await observe(queryClient, ['users'], users)
    version = 2
    await cache.invalidateTags(['products'])
    await vi.waitFor(() => expect(products.getCurrentResult().data).toBe('v2'), { timeout: 10_000 })
    expect(users).toHaveBeenCalledTimes(1)
  })

  it('connect: a newer result persisted by another tab replaces the data of that query', async () => {
    const dbName = `tq-${crypto.randomUUID()}`
    const channel = `tq-tabs-${crypto.randomUUID()}`
    const tab = (): { persister: QueryPersister; queryClient: QueryClient; cache: Cache } => {
      const idb = indexedDbStore({ dbName })
      open.push(idb)
      const cache = createCache({ tiers: [memoryStore(), idb], policy: { ttl: '1h' } })
      const persister = createQueryPersister({ cache, channel })
      open.push(persister)
      const queryClient = new QueryClient({ defaultOptions: { queries: { persister: persister.persisterFn, staleTime: 60_000 } } })
      open.push({ close: () => queryClient.clear() })
      persister.connect(queryClient)
      return { persister, queryClient, cache }
    }
    const { broadcastInvalidation } = await import('./broadcast-invalidation.js')
    const a = tab()
    const b = tab()
    open.push(broadcastInvalidation(a.cache, { channel }), broadcastInvalidation(b.cache, { channel }))
    await observe(a.queryClient, ['news'], async () => 'first')
    const inB = await observe(b.queryClient, ['news'], async () => 'not called: restored')
    expect(inB.getCurrentResult().data).toBe('first')
    await a.queryClient.fetchQuery({ queryKey: ['news'], queryFn: async () => 'second', staleTime: 0 })
    await vi.waitFor(() => expect(inB.getCurrentResult().data).toBe('second'), { timeout: 10_000 })
  })

  it('rejects bad options naming the rule', () => {
    expect(() => createQueryPersister({} as never)).toThrow(/options.cache must be a cache/)
    const cache = createCache({ tiers: [memoryStore()] })
    expect(() => createQueryPersister({ cache })).toThrow(/ttl is required/)
    expect(() => createQueryPersister({ cache, policy: { ttl: '1h' }, tags: 'products' as never })).toThrow(/options.tags must be a function/)
  })
})
