// cacheApiStore against workerd's real Cache API: the store contract, and what it really puts there.
import { createCache, memoryStore } from '@tiercache/core'
import { encodeEntry } from '@tiercache/core/store'
import { runStoreContract } from '@tiercache/core/testing'
import { describe, expect, it } from 'vitest'
import { urlOf } from '../../src/cache-api-store'
import { cacheApiStore, type CacheLike } from '../../src/index'
import { entryFor as entry, manualClock, unique } from '../support/services'

runStoreContract({ name: 'cacheApiStore on caches.default', create: () => cacheApiStore() })

const clock = manualClock()
runStoreContract({
  name: 'cacheApiStore on a named cache, with an injected clock',
  create: () => cacheApiStore({ cacheName: unique('contract'), now: clock.now }),
  clock,
})

describe('cacheApiStore: what it puts in the Cache API', () => {
  it('puts a synthetic GET whose Cache-Control max-age is the remaining servable time in whole seconds, rounded up', async () => {
    const store = cacheApiStore()
    const key = unique('shape')
    const e = entry({ n: 1 }, 30_000, { staleUntil: Date.now() + 59_400 })
    await store.set(key, e)
    const url = await urlOf(key)
    expect(url).toBe(`https://tiercache.internal/k/${encodeURIComponent(key)}`)
    const stored = await caches.default.match(url)
    expect(stored).toBeDefined()
    // 59.4 s left (staleUntil is the last servable moment): 60, never an epoch, never 0.
    expect(stored!.headers.get('cache-control')).toBe('public, max-age=60')
    expect(await stored!.text()).toBe(encodeEntry(e))
  })

  it('keeps errorUntil in the lifetime: the Cache API must hold a stale-if-error entry past staleUntil', async () => {
    const store = cacheApiStore()
    const key = unique('sie')
    await store.set(key, entry('x', 1_000, { errorUntil: Date.now() + 3_600_000 }))
    const stored = await caches.default.match(await urlOf(key))
    expect(stored!.headers.get('cache-control')).toBe('public, max-age=3600')
    await stored!.body?.cancel()
  })

  it('writes at least max-age=1 for an entry with under a second left (max-age=0 would store nothing)', async () => {
    const store = cacheApiStore()
    const key = unique('short')
    await store.set(key, entry('brief', 200))
    const stored = await caches.default.match(await urlOf(key))
    expect(stored!.headers.get('cache-control')).toBe('public, max-age=1')
    expect((await store.get(key))?.value).toBe('brief')
    await stored!.body?.cancel()
  })

  it('deletes instead of writing an entry with no time left, dropping what the key held', async () => {
    const store = cacheApiStore()
    const key = unique('dead')
    await store.set(key, entry('live', 60_000))
    await store.set(key, entry('dead', -1))
    expect(await caches.default.match(await urlOf(key))).toBeUndefined()
    expect(await store.get(key)).toBeUndefined()
  })

  it('applies writes to one key in the order they were called, and reads after them', async () => {
    const store = cacheApiStore()
    const key = unique('order')
    // A large put started first must not land after the delete started second.
    const put = store.set(key, entry('x'.repeat(500_000), 60_000))
    const removed = store.delete(key)
    await Promise.all([put, removed])
    expect(await store.get(key)).toBeUndefined()
    void store.set(key, entry('older', 60_000))
    void store.set(key, entry('newer', 60_000))
    expect((await store.get(key))?.value).toBe('newer')
  })

  it('waits for an earlier write of the key about 2 s at most: a write its request abandoned never settles', async () => {
    const real = caches.default
    let stall = true
    // Its first put never settles, as one of a request that ended; the rest go to the real Cache API.
    const stuck: CacheLike = {
      match: (request) => real.match(request),
      put: (request, response) => {
        if (!stall) return real.put(request, response)
        stall = false
        return new Promise<void>(() => {})
      },
      delete: (request) => real.delete(request),
    }
    const store = cacheApiStore({ caches: { default: stuck, open: async () => stuck } })
    const key = unique('abandoned')
    void store.set(key, entry('never lands', 60_000))
    const started = Date.now()
    await store.set(key, entry('next', 60_000))
    expect((await store.get(key))?.value).toBe('next')
    expect(Date.now() - started).toBeLessThan(10_000) // the wait is 2 s
  })

  it('keeps a long key under its SHA-256 and still round-trips it', async () => {
    const store = cacheApiStore()
    const key = `${unique('long')}/${'é'.repeat(900)}`
    const url = await urlOf(key)
    expect(url).toMatch(/^https:\/\/tiercache\.internal\/h\/[0-9a-f]{64}$/)
    await store.set(key, entry('long', 60_000))
    expect((await store.get(key))?.value).toBe('long')
  })

  it('treats a body that does not decode as a miss and deletes it', async () => {
    const store = cacheApiStore()
    for (const body of ['not json', '{"v":99,"value":1,"c":1,"f":2,"s":3}', '{"v":1}']) {
      const key = unique('garbage')
      const url = await urlOf(key)
      await caches.default.put(url, new Response(body, { headers: { 'cache-control': 'max-age=60' } }))
      expect(await store.get(key)).toBeUndefined()
      expect(await caches.default.match(url)).toBeUndefined()
    }
  })

  it('keeps named caches apart from caches.default', async () => {
    const named = cacheApiStore({ cacheName: unique('named') })
    const key = unique('apart')
    await named.set(key, entry('named', 60_000))
    expect(await cacheApiStore().get(key)).toBeUndefined()
    expect((await named.get(key))?.value).toBe('named')
  })

  it('is really filled from L2 by core, with the entry capped at its maxTtl', async () => {
    const l1 = cacheApiStore({ cacheName: unique('fill'), maxTtl: '10s' })
    const l2 = memoryStore()
    const cache = createCache({ tiers: [l1, l2], policy: { ttl: '1h' } })
    await l2.set(':k', entry('from L2', 3_600_000))
    expect(await cache.getOrSet('k', () => 'loader must not run')).toBe('from L2')
    await cache.idle()
    const filled = await l1.get(':k')
    expect(filled?.value).toBe('from L2')
    expect(filled!.staleUntil - Date.now()).toBeLessThanOrEqual(10_000)
    expect(cache.stats().tiers[0]?.fills).toBe(1)
  })

  it('rejects bad options at the factory, naming the option', () => {
    expect(() => cacheApiStore({ cacheName: '' })).toThrow(/options\.cacheName/)
    expect(() => cacheApiStore({ cacheName: 7 as unknown as string })).toThrow(TypeError)
    expect(() => cacheApiStore({ maxTtl: -1 })).toThrow(/options\.maxTtl/)
    expect(() => cacheApiStore({ maxTtl: 0 })).toThrow(RangeError)
    expect(() => cacheApiStore({ caches: {} as never })).toThrow(/options\.caches/)
    expect(() => cacheApiStore({ now: 5 as unknown as () => number })).toThrow(/options\.now/)
    expect(() => cacheApiStore(null as never)).toThrow(TypeError)
  })
})

describe('cacheApiStore: the one-time warning when the Cache API stores nothing', () => {
  // What *.workers.dev hosts do: every put succeeds and nothing is ever matched.
  const nothing: CacheLike = { match: async () => undefined, put: async () => {}, delete: async () => false }
  const noopCaches = { default: nothing, open: async () => nothing }

  it('warns once, naming the cause, when the first entry written reads back as a miss in its lifetime', async () => {
    const warnings: string[] = []
    const store = cacheApiStore({ caches: noopCaches, warn: (m) => warnings.push(m) })
    await store.set('a', entry('x', 60_000))
    expect(await store.get('a')).toBeUndefined()
    await store.set('b', entry('y', 60_000))
    expect(await store.get('b')).toBeUndefined()
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/cache-api \(cacheApiStore\) read back the first entry it wrote as a miss.*\*\.workers\.dev/)
  })

  it("stays silent on workerd's real Cache API, and after a delete of the watched key", async () => {
    const warnings: string[] = []
    const store = cacheApiStore({ cacheName: unique('warn'), warn: (m) => warnings.push(m) })
    const key = unique('k')
    await store.set(key, entry('x', 60_000))
    await store.delete(key)
    expect(await store.get(key)).toBeUndefined()
    await store.set(key, entry('y', 60_000))
    expect((await store.get(key))?.value).toBe('y')
    expect(warnings).toEqual([])
  })

  it('rejects a warn that is not a function', () => {
    expect(() => cacheApiStore({ warn: 'loud' as unknown as () => void })).toThrow(/options\.warn must be a function/)
  })
})
