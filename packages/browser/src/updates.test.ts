// Two "tabs" in one Node process (as in broadcast-invalidation.test.ts): two caches with their own memory tier over
// one fake IndexedDB database, broadcastInvalidation and cacheUpdates on one channel name; an injected clock makes
// entries stale without sleeping.
import { createCache, memoryStore, type Cache } from '@tiercache/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { broadcastInvalidation } from './broadcast-invalidation.js'
import { createCachedFetch } from './cached-fetch.js'
import { indexedDbStore } from './indexeddb-store.js'
import { cacheUpdates, type CacheUpdate, type FetchUpdate } from './updates.js'

const open: { close(): unknown }[] = []
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close()
})

function tabs() {
  const dbName = `updates-${crypto.randomUUID()}`
  const channel = `test-${crypto.randomUUID()}`
  let offset = 0
  const now = (): number => 1_700_000_000_000 + offset
  const tab = () => {
    const idb = indexedDbStore({ dbName, now })
    open.push(idb)
    const cache = createCache({ tiers: [memoryStore(), idb], now, policy: { ttl: '1m', swr: '1h' } })
    open.push(broadcastInvalidation(cache, { channel, now }))
    const updates = cacheUpdates(cache, { channel, now })
    open.push(updates)
    return { cache, updates }
  }
  return { a: tab(), b: tab(), now, advance: (ms: number) => (offset += ms) }
}

/** Collects what a listener gets. */
function recorder<V>() {
  const got: CacheUpdate<V>[] = []
  return { got, listener: (u: CacheUpdate<V>) => got.push(u) }
}

describe('cacheUpdates', () => {
  it('a background refresh that changed the value notifies this tab and the other, with the new value', async () => {
    const { a, b, advance } = tabs()
    expect(await a.cache.getOrSet('user:1', () => ({ name: 'Ada' }))).toEqual({ name: 'Ada' })
    await vi.waitFor(async () => expect(await b.cache.get('user:1')).toEqual({ name: 'Ada' }), { timeout: 10_000 })
    const inA = recorder<{ name: string }>()
    const inB = recorder<{ name: string }>()
    a.updates.onUpdate('user:1', inA.listener)
    b.updates.onUpdate('user:1', inB.listener)
    advance(120_000) // stale, within swr
    expect(await a.cache.getOrSet('user:1', () => ({ name: 'Ada Lovelace' }))).toEqual({ name: 'Ada' })
    await a.cache.idle()
    await vi.waitFor(() => expect(inB.got).toHaveLength(1), { timeout: 10_000 })
    expect(inA.got.map((u) => [u.value, u.changed, u.remote])).toEqual([[{ name: 'Ada Lovelace' }, true, false]])
    expect(inB.got.map((u) => [u.value, u.changed, u.remote])).toEqual([[{ name: 'Ada Lovelace' }, true, true]])
  })

  it('a refresh that stored the same value notifies nobody, unless asked to', async () => {
    const { a, b, advance } = tabs()
    await a.cache.getOrSet('k', () => [1, 2, 3])
    await vi.waitFor(async () => expect(await b.cache.get('k')).toEqual([1, 2, 3]), { timeout: 10_000 })
    const inA = recorder()
    const inB = recorder()
    const confirmations = recorder()
    a.updates.onUpdate('k', inA.listener)
    b.updates.onUpdate('k', inB.listener)
    b.updates.onUpdate('k', confirmations.listener, { unchanged: true })
    advance(120_000)
    await a.cache.getOrSet('k', () => [1, 2, 3])
    await a.cache.idle()
    await vi.waitFor(() => expect(confirmations.got).toHaveLength(1), { timeout: 10_000 })
    expect(confirmations.got[0]?.changed).toBe(false)
    expect(inA.got).toEqual([])
    expect(inB.got).toEqual([])
  })

  it('since: a write that finished before the subscription is delivered at once, older ones are not', async () => {
    const { a, now, advance } = tabs()
    await a.cache.set('k', 'v1')
    advance(1_000)
    const beforeRead = now()
    const early = recorder()
    a.updates.onUpdate('k', early.listener)
    advance(1_000)
    await a.cache.set('k', 'v2') // finished between the read and a late subscription
    const late = recorder()
    const later = recorder()
    a.updates.onUpdate('k', late.listener, { since: beforeRead })
    a.updates.onUpdate('k', later.listener, { since: now() })
    expect(late.got).toEqual([]) // in a microtask, not inside onUpdate
    await Promise.resolve()
    expect(late.got.map((u) => u.value)).toEqual(['v2'])
    expect(early.got.map((u) => u.value)).toEqual(['v2'])
    expect(later.got).toEqual([])
  })

  it('a function of the key watches every key it accepts', async () => {
    const { a } = tabs()
    for (const key of ['user:1', 'product:1', 'user:2']) await a.cache.set(key, 'first')
    const users = recorder()
    a.updates.onUpdate((key) => key.startsWith('user:'), users.listener)
    await a.cache.set('user:1', 'ada')
    await a.cache.set('product:1', 'shoe')
    await a.cache.set('user:2', 'grace')
    expect(users.got.map((u) => [u.key, u.value])).toEqual([
      ['user:1', 'ada'],
      ['user:2', 'grace'],
    ])
  })

  it("the first value a tab stores for a key is its caller's, not an update; the first one another tab stores is", async () => {
    const { a, b } = tabs()
    const inA = recorder()
    const inB = recorder()
    a.updates.onUpdate('k', inA.listener)
    b.updates.onUpdate('k', inB.listener)
    expect(await a.cache.getOrSet('k', () => 'loaded')).toBe('loaded')
    await vi.waitFor(() => expect(inB.got.map((u) => [u.value, u.changed, u.remote])).toEqual([['loaded', true, true]]), { timeout: 10_000 })
    expect(inA.got).toEqual([])
    await a.cache.set('k', 'set')
    expect(inA.got.map((u) => u.value)).toEqual(['set'])
  })

  it('unsubscribing and close() stop the listener', async () => {
    const { a } = tabs()
    await a.cache.set('k', 0)
    const got = recorder()
    const stop = a.updates.onUpdate('k', got.listener)
    await a.cache.set('k', 1)
    stop()
    await a.cache.set('k', 2)
    a.updates.onUpdate('k', got.listener)
    a.updates.close()
    await a.cache.set('k', 3)
    expect(got.got.map((u) => u.value)).toEqual([1])
  })

  it('a throwing listener does not keep the others from hearing', async () => {
    const { a } = tabs()
    const errors: unknown[] = []
    const onError = (e: unknown) => errors.push(e)
    process.on('uncaughtException', onError)
    try {
      await a.cache.set('k', 0)
      const got = recorder()
      a.updates.onUpdate('k', () => {
        throw new Error('listener bug')
      })
      a.updates.onUpdate('k', got.listener)
      await a.cache.set('k', 1)
      expect(got.got).toHaveLength(1)
      await new Promise((resolve) => setTimeout(resolve, 0))
    } finally {
      process.off('uncaughtException', onError)
    }
    expect(errors).toHaveLength(1)
  })

  it('onFetchUpdate: a revalidation that brought a new body notifies with the response; a 304 does not', async () => {
    const { a, b, now, advance } = tabs()
    let body = 'v1'
    let etag = '"1"'
    const origin = vi.fn(async (input: RequestInfo | URL) => {
      const request = new Request(input)
      if (request.headers.get('if-none-match') === etag) return new Response(null, { status: 304, headers: { etag, 'cache-control': 'max-age=60, stale-while-revalidate=3600' } })
      return new Response(body, { headers: { etag, 'cache-control': 'max-age=60, stale-while-revalidate=3600' } })
    })
    const fetchA = createCachedFetch({ cache: a.cache, fetch: origin, now })
    let writes = 0
    a.cache.subscribe((e) => {
      if (e.type === 'write') writes++
    })
    expect(await (await fetchA('https://api.test/item')).text()).toBe('v1')
    const inB: FetchUpdate[] = []
    b.updates.onFetchUpdate('https://api.test/item#ignored', (u) => inB.push(u))
    // Seed B's baseline the way a reader would: it read the response.
    const fetchB = createCachedFetch({ cache: b.cache, fetch: origin, now })
    expect(await (await fetchB('https://api.test/item')).text()).toBe('v1')

    advance(120_000)
    await fetchA('https://api.test/item') // stale: answered, revalidated in the background -> 304
    await vi.waitFor(() => expect(writes).toBe(2), { timeout: 10_000 })
    body = 'v2'
    etag = '"2"'
    await fetchA('https://api.test/item', { cache: 'no-cache' }) // revalidated now -> 200 with v2
    expect(writes).toBe(3)
    await vi.waitFor(() => expect(inB).toHaveLength(1), { timeout: 10_000 })
    const update = inB[0] as FetchUpdate
    expect([update.url, update.status, update.changed, update.remote]).toEqual(['https://api.test/item', 200, true, true])
    const response = update.response()
    expect(await response.text()).toBe('v2')
    expect(response.headers.get('etag')).toBe('"2"')
    expect(response.headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=\d+; detail=update$/)
    expect(await update.response().text()).toBe('v2') // a new body each call
  })

  it('rejects bad input naming the argument', () => {
    const { a } = tabs()
    expect(() => cacheUpdates(null as unknown as Cache)).toThrow(TypeError)
    expect(() => a.updates.onUpdate('', () => {})).toThrow(/key must be a non-empty string/)
    expect(() => a.updates.onUpdate('k', 'nope' as never)).toThrow(/listener must be a function/)
    expect(() => a.updates.onUpdate('k', () => {}, { since: Number.NaN })).toThrow(/options.since/)
    expect(() => cacheUpdates(a.cache, { remember: 0 })).toThrow(RangeError)
  })
})

