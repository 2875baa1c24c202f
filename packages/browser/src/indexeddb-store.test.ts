import { CacheError, createCache, memoryStore, toEnvelope, type CacheEvent, type Entry, type StoreEvent } from '@tiercache/core'
import { createStore, get as idbGet, keys as idbKeys, set as idbSet } from 'idb-keyval'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { indexedDbStore, type IndexedDbStore, type IndexedDbStoreOptions } from './indexeddb-store.js'

const START = 1_700_000_000_000

function setup(options: IndexedDbStoreOptions = {}) {
  let t = START
  const clock = { now: () => t, advance: (ms: number) => void (t += ms) }
  const dbName = `unit-${crypto.randomUUID()}`
  const store = indexedDbStore({ dbName, now: clock.now, ...options })
  const events: StoreEvent[] = []
  store.watch((e) => events.push(e))
  opened.push(store)
  return { store, clock, events, dbName, raw: createStore(dbName, 'entries') }
}

function entry(value: unknown, now: number, lifeMs = 60_000): Entry {
  return { value, createdAt: now, freshUntil: now + lifeMs, staleUntil: now + lifeMs }
}

const opened: IndexedDbStore[] = []
afterEach(async () => {
  vi.restoreAllMocks()
  vi.unstubAllGlobals()
  await Promise.all(opened.splice(0).map((s) => s.close()))
})

describe('indexedDbStore: options', () => {
  it('validates once, naming the option and the rule', () => {
    expect(() => indexedDbStore({ maxEntries: 0 })).toThrow(/options\.maxEntries must be a positive integer/)
    expect(() => indexedDbStore({ maxEntries: 1.5 })).toThrow(RangeError)
    expect(() => indexedDbStore({ dbName: '' })).toThrow(/options\.dbName must be a non-empty string/)
    expect(() => indexedDbStore({ maxTtl: '-1s' })).toThrow(/options\.maxTtl/)
    expect(() => indexedDbStore({ maxTtl: 0 })).toThrow(/options\.maxTtl must be greater than 0/)
    expect(() => indexedDbStore({ now: 5 as unknown as () => number })).toThrow(/options\.now must be a function/)
  })

  it('follows the clock of the cache it is given to, unless built with its own', async () => {
    let t = 1_000_000
    const now = () => t
    const follower = indexedDbStore({ dbName: `clock-${Math.random()}` })
    const own = indexedDbStore({ dbName: `clock-own-${Math.random()}`, now: () => 5_000_000 })
    createCache({ tiers: [memoryStore(), follower, own], now, policy: { ttl: '1m' } })
    const e: Entry = { value: 'v', createdAt: t, freshUntil: t + 1000, staleUntil: t + 1000 }
    // On Date.now this entry (times near 1,000,000 ms) would be long dead: the store judges by the cache's clock.
    await follower.set('k', e)
    expect((await follower.get('k'))?.value).toBe('v')
    t += 1000
    expect(await follower.get('k')).toBeUndefined()
    // The store with its own clock judges by it: this entry ended long before 5,000,000.
    await own.set('k', e)
    expect(await own.get('k')).toBeUndefined()
    expect(() => indexedDbStore(null as unknown as IndexedDbStoreOptions)).toThrow(/indexedDbStore\(options\) must be an object/)
  })

  it('exposes name and maxTtl in ms for core to cap with', () => {
    const store = indexedDbStore({ name: 'idb', maxTtl: '1h', dbName: `o-${crypto.randomUUID()}` })
    opened.push(store)
    expect(store.name).toBe('idb')
    expect(store.maxTtl).toBe(3_600_000)
  })
})

describe('indexedDbStore: storage', () => {
  it('stores core envelopes under the full key', async () => {
    const { store, clock, raw } = setup()
    const e = entry({ a: 1 }, clock.now())
    await store.set('ns:k', e)
    expect(await idbGet('ns:k', raw)).toEqual(toEnvelope(e))
  })

  it('reads every key of getMany in one transaction', async () => {
    const { store, clock } = setup()
    await store.setMany([
      ['a', entry('A', clock.now())],
      ['b', entry('B', clock.now())],
    ])
    const spy = vi.spyOn(IDBDatabase.prototype, 'transaction')
    const got = await store.getMany(['a', 'x', 'b'])
    expect(got.map((e) => e?.value)).toEqual(['A', undefined, 'B'])
    expect(spy).toHaveBeenCalledTimes(1)
    expect(spy.mock.calls[0]?.[1]).toBe('readonly')
  })

  it('drops an expired entry when it is read, and reports it', async () => {
    const { store, clock, events, raw } = setup()
    await store.set('k', entry('v', clock.now(), 1_000))
    clock.advance(1_000)
    expect(await store.get('k')).toBeUndefined()
    await vi.waitFor(async () => expect(await idbGet('k', raw)).toBeUndefined())
    expect(events).toEqual([{ type: 'evict', key: 'k', reason: 'expired' }])
  })

  it('keeps an entry past staleUntil while its stale-if-error window lasts', async () => {
    const { store, clock } = setup()
    const t = clock.now()
    await store.set('k', { value: 'v', createdAt: t, freshUntil: t + 10, staleUntil: t + 10, errorUntil: t + 5_000 })
    clock.advance(1_000)
    expect((await store.get('k'))?.value).toBe('v')
  })

  it('treats an undecodable record as a miss and deletes it', async () => {
    const { store, raw } = setup()
    await idbSet('bad', { v: 99, value: 'from a future format' }, raw)
    await idbSet('worse', 'not an envelope', raw)
    expect(await store.getMany(['bad', 'worse'])).toEqual([undefined, undefined])
    await vi.waitFor(async () => expect(await idbKeys(raw)).toEqual([]))
  })

  it('does not write an entry that is already dead, and removes the one it replaces', async () => {
    const { store, clock, raw } = setup()
    await store.set('k', entry('old', clock.now()))
    const t = clock.now()
    await store.set('k', { value: 'dead', createdAt: t - 10, freshUntil: t - 5, staleUntil: t - 1 })
    expect(await idbGet('k', raw)).toBeUndefined()
  })

  it('counts, clears, and closes (then rejects with a CacheError)', async () => {
    const { store, clock } = setup()
    await store.setMany([
      ['a', entry(1, clock.now())],
      ['b', entry(2, clock.now())],
    ])
    expect(await store.count()).toBe(2)
    await store.clear()
    expect(await store.count()).toBe(0)
    await store.close()
    await expect(store.get('a')).rejects.toMatchObject({ code: 'TIER_ERROR', tier: 'indexeddb' })
  })
})

describe('indexedDbStore: least recently used eviction', () => {
  it('reads do not rewrite entries: access times are written in batches, under their own keys', async () => {
    const { store, clock } = setup({ accessFlushBatch: 3 })
    await store.setMany(['a', 'b', 'c'].map((k) => [k, entry(k, clock.now())] as const))
    const put = vi.spyOn(IDBObjectStore.prototype, 'put')
    await store.get('a')
    await store.get('b')
    expect(put).not.toHaveBeenCalled()
    await store.get('c') // the third read fills the batch
    await vi.waitFor(() => expect(put).toHaveBeenCalledTimes(3))
    // Only access-time records ([key] array keys), never an entry.
    expect(put.mock.calls.map((call) => call[1])).toEqual([['a'], ['b'], ['c']])
  })

  it('flushes pending access times after accessFlushInterval', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const { store, clock } = setup({ accessFlushInterval: '5s' })
      await store.set('a', entry('a', clock.now()))
      const put = vi.spyOn(IDBObjectStore.prototype, 'put')
      await store.get('a')
      expect(put).not.toHaveBeenCalled()
      await vi.advanceTimersByTimeAsync(5_000)
      vi.useRealTimers()
      await vi.waitFor(() => expect(put).toHaveBeenCalledWith(expect.any(Number), ['a']))
    } finally {
      vi.useRealTimers()
    }
  })

  it('evicts the least recently used once over maxEntries, down to 90% of it', async () => {
    const { store, clock, events } = setup({ maxEntries: 10, accessFlushBatch: 1_000 })
    for (let i = 0; i < 10; i++) {
      await store.set(`k${i}`, entry(i, clock.now()))
      clock.advance(10)
    }
    // k0 and k1 are read again: they become the most recently used (held in memory until the eviction flushes).
    await store.get('k0')
    await store.get('k1')
    clock.advance(10)
    await store.set('k10', entry(10, clock.now()))
    expect(await store.count()).toBe(9)
    expect(events.map((e) => e.key)).toEqual(['k2', 'k3'])
    expect(events.every((e) => e.reason === 'capacity')).toBe(true)
    const left = await store.getMany(['k0', 'k1', 'k2', 'k3', 'k4', 'k10'])
    expect(left.map((e) => e?.value)).toEqual([0, 1, undefined, undefined, 4, 10])
  })

  it('keeps the entry just written even when every access time ties', async () => {
    const { store, clock } = setup({ maxEntries: 3 })
    for (const k of ['a', 'b', 'c', 'd']) await store.set(k, entry(k, clock.now()))
    expect(await store.count()).toBe(3)
    expect((await store.get('d'))?.value).toBe('d')
  })

  it('bounds the store under concurrent writes', async () => {
    const { store, clock } = setup({ maxEntries: 20 })
    await Promise.all(Array.from({ length: 60 }, (_, i) => store.set(`k${i}`, entry(i, clock.now()))))
    expect(await store.count()).toBeLessThanOrEqual(20)
  })

  it('reports evictions through createCache as evict events of its tier', async () => {
    const { store, clock } = setup({ maxEntries: 2 })
    const seen: CacheEvent[] = []
    const cache = createCache({ tiers: [store], now: clock.now, onEvent: (e) => seen.push(e), policy: { ttl: '1m' } })
    for (const k of ['a', 'b', 'c']) {
      await cache.set(k, k)
      clock.advance(1)
    }
    expect(seen.filter((e) => e.type === 'evict')).toMatchObject([{ key: 'a', tier: 'indexeddb', reason: 'capacity' }])
    expect(cache.stats().tiers[0]?.evictions).toBe(1)
  })
})

describe('indexedDbStore: sweep', () => {
  it('deletes at most sweepLimit expired entries per sweep, resuming where it stopped', async () => {
    const { store, clock, events } = setup({ sweepLimit: 3 })
    await store.setMany(['a', 'b', 'c', 'd', 'e'].map((k) => [k, entry(k, clock.now(), 1_000)] as const))
    await store.set('live', entry('live', clock.now(), 60_000))
    clock.advance(1_000)
    expect(await store.sweep()).toBe(3)
    expect(await store.count()).toBe(3)
    expect(await store.sweep()).toBe(2) // d, e, then 'live' is looked at and kept
    expect(await store.count()).toBe(1)
    expect(events.map((e) => e.key).sort()).toEqual(['a', 'b', 'c', 'd', 'e'])
    expect(events.every((e) => e.reason === 'expired')).toBe(true)
  })

  it('starts a sweep in the background once sweepInterval has passed, never inside the read', async () => {
    const { store, clock } = setup({ sweepInterval: '1m' })
    await store.set('old', entry('old', clock.now(), 1_000))
    await store.set('live', entry('live', clock.now(), 3_600_000))
    const sweep = vi.spyOn(store, 'sweep')
    clock.advance(60_000)
    expect((await store.get('live'))?.value).toBe('live')
    expect(sweep).not.toHaveBeenCalled() // scheduled, not run inside get
    await vi.waitFor(() => expect(sweep).toHaveBeenCalledTimes(1))
    await vi.waitFor(async () => expect(await store.count()).toBe(1))
  })
})

describe('indexedDbStore: quota', () => {
  const quota = (): DOMException => new DOMException('The quota has been exceeded.', 'QuotaExceededError')

  it('evicts and retries once when a write exceeds the quota', async () => {
    const { store, clock, events } = setup()
    for (let i = 0; i < 8; i++) {
      await store.set(`k${i}`, entry(i, clock.now()))
      clock.advance(1)
    }
    const realPut = IDBObjectStore.prototype.put
    let failures = 1
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value, key) {
      if (typeof key === 'string' && failures-- > 0) throw quota()
      return realPut.call(this, value, key)
    })
    await store.set('big', entry('big', clock.now()))
    expect((await store.get('big'))?.value).toBe('big')
    // A quarter of the 8 entries, oldest first.
    expect(events).toEqual([
      { type: 'evict', key: 'k0', reason: 'size' },
      { type: 'evict', key: 'k1', reason: 'size' },
    ])
  })

  it('degrades to a miss when the retry fails too: set resolves, the entry is reported evicted', async () => {
    const { store, clock, events } = setup()
    await store.set('a', entry('a', clock.now()))
    const realPut = IDBObjectStore.prototype.put
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore, value, key) {
      if (key === 'huge') throw quota()
      return realPut.call(this, value, key)
    })
    await expect(store.set('huge', entry('x'.repeat(10), clock.now()))).resolves.toBeUndefined()
    expect(await store.get('huge')).toBeUndefined()
    expect(events).toContainEqual({ type: 'evict', key: 'huge', reason: 'size' })
  })

  it('never fails a cache call on quota', async () => {
    const { store, clock } = setup()
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw quota()
    })
    const errors: CacheEvent[] = []
    const cache = createCache({ tiers: [memoryStore(), store], now: clock.now, onEvent: (e) => e.type === 'error' && errors.push(e) })
    await expect(cache.getOrSet('k', () => 'v', { ttl: '1m' })).resolves.toBe('v')
    await cache.idle()
    expect(errors).toEqual([])
  })
})

describe('indexedDbStore: IndexedDB unavailable', () => {
  it('rejects every operation with a CacheError naming the reason when indexedDB is undefined', async () => {
    vi.stubGlobal('indexedDB', undefined)
    const store = indexedDbStore({ dbName: 'nowhere' })
    const failure = await store.get('k').catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(CacheError)
    expect(failure).toMatchObject({ code: 'TIER_ERROR', tier: 'indexeddb', key: 'k', message: expect.stringMatching(/IndexedDB is not available/) })
    await expect(store.set('k', entry(1, Date.now()))).rejects.toBeInstanceOf(CacheError)
    await expect(store.getMany(['k'])).rejects.toBeInstanceOf(CacheError)
    await expect(store.delete('k')).rejects.toBeInstanceOf(CacheError)
    await expect(store.flush()).resolves.toBeUndefined()
    await store.close()
  })

  it('acts as an empty tier under createCache: error events, answers from the loader and memory', async () => {
    vi.stubGlobal('indexedDB', {
      // Like a blocked-storage profile: open fails asynchronously.
      open() {
        const req: { error: DOMException; onerror?: () => void; result?: unknown } = {
          error: new DOMException('The user denied permission to access the database.', 'UnknownError'),
        }
        setTimeout(() => req.onerror?.(), 0)
        return req
      },
    })
    const store = indexedDbStore({ dbName: 'blocked' })
    const errors: CacheEvent[] = []
    const cache = createCache({ tiers: [memoryStore(), store], onEvent: (e) => e.type === 'error' && errors.push(e) })
    let loads = 0
    expect(await cache.getOrSet('k', () => ++loads, { ttl: '1m' })).toBe(1)
    expect(await cache.getOrSet('k', () => ++loads, { ttl: '1m' })).toBe(1)
    await cache.idle()
    expect(loads).toBe(1)
    expect(errors.length).toBeGreaterThan(0)
    expect(errors[0]?.error).toMatchObject({ code: 'TIER_ERROR', tier: 'indexeddb' })
    expect(errors[0]?.error?.message).toMatch(/UnknownError: The user denied permission/)
    await store.close()
  })

  it('names the cause when the database lacks the object store', async () => {
    const dbName = `two-${crypto.randomUUID()}`
    const first = indexedDbStore({ dbName, storeName: 'one' })
    opened.push(first)
    await first.set('k', entry(1, Date.now()))
    const second = indexedDbStore({ dbName, storeName: 'two' })
    await expect(second.get('k')).rejects.toThrow(/idb-keyval creates one object store per database, use another dbName/)
  })
})
