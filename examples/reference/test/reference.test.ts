import { createCache, memoryStore } from '@tiercache/core'
import { describe, expect, it, vi } from 'vitest'
import { syncTabs } from '../browser/broadcast.js'
import { createAppCache, dropProducts } from '../browser/indexeddb-coordinator.js'
import { userFromCache } from '../browser/indexeddb-store.js'
import { watchProducts, watchUser } from '../browser/updates.js'

describe('the browser README code, under Node with fake-indexeddb', () => {
  it('indexedDbStore: a new page (a new cache on the same database) is answered by IndexedDB', async () => {
    let calls = 0
    const api = { user: async (id: string) => ({ id, name: `user ${id} #${++calls}` }) }
    const first = await userFromCache(api, '7')
    const afterReload = await userFromCache(api, '7')
    expect(first).toEqual({ id: '7', name: 'user 7 #1' })
    expect(afterReload).toEqual(first)
    expect(calls).toBe(1)
  })

  it('indexedDbCoordinator: an invalidation survives a reload', async () => {
    const before = createAppCache()
    let loads = 0
    const load = async () => ({ n: ++loads })
    await before.getOrSet('product:1', load, { ttl: '1h', tags: ['products'] })
    await dropProducts()
    const afterReload = createAppCache()
    expect(await afterReload.getOrSet('product:1', load, { ttl: '1h', tags: ['products'] })).toEqual({ n: 2 })
  })

  it('broadcastInvalidation: deletes and tag invalidations apply, then the channel closes', async () => {
    const cache = createCache({ tiers: [memoryStore()] })
    await cache.set('cart', ['teapot'], { ttl: '1h' })
    await cache.set('p', 1, { ttl: '1h', tags: ['catalog'] })
    const sync = await syncTabs(cache)
    expect(sync.active).toBe(true)
    expect(await cache.get('cart')).toBeUndefined()
    expect(await cache.get('p')).toBeUndefined()
  })
})

describe('the browser README code: notifications and adapters', () => {
  it('cacheUpdates: a newer value stored for the key reaches the subscriber', async () => {
    const cache = createCache({ tiers: [memoryStore()] })
    const seen: unknown[] = []
    const { updates, stop } = watchUser(cache, (user) => seen.push(user))
    await vi.waitFor(() => expect(seen).toEqual([{ name: 'Ada' }]), { timeout: 10_000 })
    await cache.set('user:1', { name: 'Grace' }, { ttl: '1m' })
    await cache.set('user:1', { name: 'Grace' }, { ttl: '1m' }) // the same value again: no notification
    expect(seen).toEqual([{ name: 'Ada' }, { name: 'Grace' }])
    stop()
    updates.close()
  })

  it('onFetchUpdate: a revalidation that brought a new body is shown', async () => {
    const cache = createCache({ tiers: [memoryStore()] })
    let version = 1
    const origin = vi
      .spyOn(globalThis, 'fetch')
      .mockImplementation(async () => new Response(JSON.stringify({ version }), { headers: { 'cache-control': 'max-age=60', 'content-type': 'application/json' } }))
    try {
      const shown: unknown[] = []
      const updates = await watchProducts(cache, (products) => shown.push(products))
      version = 2
      const { createCachedFetch } = await import('@tiercache/browser')
      await createCachedFetch({ cache })('https://shop.example/api/products', { cache: 'reload' })
      await vi.waitFor(() => expect(shown).toEqual([{ version: 1 }, { version: 2 }]), { timeout: 10_000 })
      updates.close()
    } finally {
      origin.mockRestore()
    }
  })

  it('createSWRCache: fetchers run through the cache, and invalidateTags revalidates the hooks on the tagged keys', async () => {
    const { swrCache, cache, refreshProducts } = await import('../browser/swr.js')
    const map = swrCache.config.provider(new Map())
    const mutated: unknown[][] = []
    const mutate = async (...args: unknown[]) => {
      mutated.push(args)
    }
    let wrapped: ((url: string) => Promise<unknown>) | undefined
    const useSWRNext = (_key: unknown, fetcher: unknown) => {
      wrapped = fetcher as (url: string) => Promise<unknown>
      return {}
    }
    let fetches = 0
    const fetcher = async () => [{ name: `teapot ${++fetches}` }]
    swrCache.middleware(useSWRNext as never)('/api/products', fetcher, { cache: map, mutate } as never)
    expect(await wrapped?.('/api/products')).toEqual([{ name: 'teapot 1' }])
    expect(await wrapped?.('/api/products')).toEqual([{ name: 'teapot 1' }]) // fresh in the cache: no fetch
    expect(await cache.get('swr:/api/products')).toEqual([{ name: 'teapot 1' }])
    map.set('/api/products', { data: [{ name: 'teapot 1' }] })
    await refreshProducts()
    expect(mutated).toEqual([['/api/products']])
    expect(await wrapped?.('/api/products')).toEqual([{ name: 'teapot 2' }])
    swrCache.close()
  })
})

describe('the core README code', () => {
  it('a custom store round-trips entries through the envelope and expires with them', async () => {
    const { keyValueStore } = await import('../core/store.js')
    const map = new Map<string, { value: string; expiresAt: number }>()
    const kv = {
      get: async (key: string) => map.get(key)?.value,
      set: async (key: string, value: string, expiresAt: number) => void map.set(key, { value, expiresAt }),
      delete: async (key: string) => void map.delete(key),
    }
    const cache = createCache({ tiers: [keyValueStore(kv)], policy: { ttl: '1m', swr: '1m' } })
    let loads = 0
    expect(await cache.getOrSet('a', () => ++loads)).toBe(1)
    // The loaded entry is written to the store in the background: read it back once written.
    await cache.idle()
    expect(await cache.getOrSet('a', () => ++loads)).toBe(1)
    const [stored] = [...map.values()]
    expect(stored?.expiresAt).toBeGreaterThan(Date.now() + 100_000) // ttl + swr
    map.set('app:bad', { value: '{"v":999}', expiresAt: 0 })
    expect(await keyValueStore(kv).get('bad')).toBeUndefined()
    expect(map.has('app:bad')).toBe(false)
  })

  it('events reach onEvent and subscribers', async () => {
    const { observedCache } = await import('../core/events.js')
    const lines: string[] = []
    const { cache, stats } = observedCache((line) => lines.push(line))
    await cache.getOrSet('k', () => 'v')
    expect(lines.some((line) => /^loaded k in \d+ ms$/.test(line))).toBe(true)
    expect(stats().loads).toBe(1)
  })
})

describe('the edge README code: tiercache with Workers Cache (under Node; Workers Cache is a recording double)', () => {
  it('emits the headers of each route, answers 304 to its ETag, and invalidates Workers Cache soft or hard', async () => {
    const { default: worker } = await import('../edge/workers-cache.js')
    const calls: { method: string; tags: string[] | undefined; pathPrefixes?: string[] }[] = []
    const workersCache = {
      purge: async (s: { tags?: string[]; pathPrefixes?: string[] }) => (calls.push({ method: 'purge', tags: s.tags, ...(s.pathPrefixes ? { pathPrefixes: s.pathPrefixes } : {}) }), { success: true, errors: [] }),
      invalidate: async (s: { tags?: string[] }) => (calls.push({ method: 'invalidate', tags: s.tags }), { success: true, errors: [] }),
    }
    const background: Promise<unknown>[] = []
    const ctx = { waitUntil: (p: Promise<unknown>) => void background.push(p), cache: workersCache }
    const send = async (path: string, init?: RequestInit): Promise<Response> => {
      const response = await worker.fetch(new Request(`https://shop.example${path}`, init), {}, ctx)
      await Promise.allSettled(background)
      return response
    }
    const first = await send('/price')
    expect(await first.json()).toEqual({ price: 10 })
    expect(first.headers.get('cache-control')).toBe('public, max-age=300, stale-while-revalidate=60')
    expect(first.headers.get('cloudflare-cdn-cache-control')).toBe('max-age=300, stale-while-revalidate=60')
    expect(first.headers.get('cache-tag')).toBe('prices')
    const etag = first.headers.get('etag') as string
    expect((await send('/price', { headers: { 'if-none-match': etag } })).status).toBe(304)
    expect((await send('/me')).headers.get('cache-control')).toBe('private, max-age=300, stale-while-revalidate=60')

    const soft = await send('/admin/price?mode=soft', { method: 'POST', body: '12' })
    expect(await soft.json()).toEqual({ action: 'invalidate', tags: ['prices'], calls: 1, ok: true })
    const hard = await send('/admin/price', { method: 'POST', body: '14' })
    expect(await hard.json()).toEqual({ action: 'purge', tags: ['prices'], calls: 1, ok: true })
    expect(calls).toEqual([
      { method: 'invalidate', tags: ['prices'] },
      { method: 'purge', tags: ['prices'] },
    ])
    expect(await (await send('/price')).json()).toEqual({ price: 14 })

    // By path prefix: /products/1 loads again, /price (not under it) is still the stored answer.
    expect(await (await send('/products/1')).json()).toEqual({ id: '1', price: 14 })
    const byPath = await send('/admin/catalogue', { method: 'POST', body: '20' })
    expect(await byPath.json()).toEqual({ action: 'purge', tags: [], pathPrefixes: ['/products/'], calls: 1, ok: true })
    expect(calls.at(-1)).toEqual({ method: 'purge', tags: undefined, pathPrefixes: ['/products/'] })
    expect(await (await send('/products/1')).json()).toEqual({ id: '1', price: 20 })
    expect(await (await send('/price')).json()).toEqual({ price: 14 })
  })
})
