import { CacheError, createCache, memoryStore, type CacheEvent, type Entry, type StoreEvent } from '@tiercache/core'
import { toEnvelope } from '@tiercache/core/store'
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
  return { store, clock, events, dbName, raw: createStore(dbName, 'entries'), rawTimes: createStore(`${dbName}-lru`, 'access') }
}

/** The database an object store method was called on (`this` of a spied IDBObjectStore method). */
const dbOf = (os: unknown): string => (os as IDBObjectStore).transaction.db.name

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
    expect(() => indexedDbStore({ maxEntries: 0 })).toThrow(/options\.maxEntries must be from 1 to/)
    expect(() => indexedDbStore({ maxEntries: 1.5 })).toThrow(TypeError)
    expect(() => indexedDbStore({ dbName: '' })).toThrow(/options\.dbName must be a non-empty string/)
    expect(() => indexedDbStore({ maxTtl: '-1s' })).toThrow(/options\.maxTtl/)
    expect(() => indexedDbStore({ maxTtl: 0 })).toThrow(/options\.maxTtl must be longer than 0 ms/)
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
    expect(() => indexedDbStore(null as unknown as IndexedDbStoreOptions)).toThrow(/indexedDbStore\(options\) must be an options object/)
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
    await vi.waitFor(async () => expect(await idbGet('k', raw)).toBeUndefined(), { timeout: 10_000 })
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
    await vi.waitFor(async () => expect(await idbKeys(raw)).toEqual([]), { timeout: 10_000 })
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
  it('reads do not rewrite entries: access times are written in batches, to a database of their own', async () => {
    const { store, clock, dbName } = setup({ accessFlushBatch: 3 })
    await store.setMany(['a', 'b', 'c'].map((k) => [k, entry(k, clock.now())] as const))
    await store.flush()
    const put = vi.spyOn(IDBObjectStore.prototype, 'put')
    await store.get('a')
    await store.get('b')
    expect(put).not.toHaveBeenCalled()
    await store.get('c') // the third read fills the batch
    await vi.waitFor(() => expect(put).toHaveBeenCalledTimes(3), { timeout: 10_000 })
    expect(put.mock.calls.map((call) => call[1])).toEqual(['a', 'b', 'c'])
    // Only access-time records, in `<dbName>-lru`: never an entry, never in the entries' database.
    expect(put.mock.contexts.map(dbOf)).toEqual([`${dbName}-lru`, `${dbName}-lru`, `${dbName}-lru`])
    expect(store.lruDbName).toBe(`${dbName}-lru`)
  })

  it('by default only the interval writes access times: many reads, one time per key, in transactions of 100', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const { store, clock, dbName } = setup()
      const keys = Array.from({ length: 150 }, (_, i) => `k${i}`)
      await store.setMany(keys.map((k) => [k, entry(k, clock.now())] as const))
      const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction')
      const put = vi.spyOn(IDBObjectStore.prototype, 'put')
      for (let i = 0; i < 4; i++) await store.getMany(keys)
      await vi.advanceTimersByTimeAsync(4_999)
      expect(put).not.toHaveBeenCalled()
      await vi.advanceTimersByTimeAsync(1)
      vi.useRealTimers()
      await vi.waitFor(() => expect(put).toHaveBeenCalledTimes(150), { timeout: 10_000 })
      const writes = transaction.mock.calls.filter((call) => call[1] === 'readwrite')
      expect(writes).toHaveLength(2)
      expect(new Set(put.mock.contexts.map(dbOf))).toEqual(new Set([`${dbName}-lru`]))
    } finally {
      vi.useRealTimers()
    }
  })

  it('flushes write one after the other: flush() waits for the one before, a newer time is never overwritten', async () => {
    const { store, clock, rawTimes } = setup()
    const keys = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(3, '0')}`)
    await store.setMany(keys.map((k) => [k, entry(k, clock.now())] as const))
    clock.advance(10)
    await store.getMany(keys)
    const first = store.flush() // 300 times, in 3 transactions; k299 in the last
    clock.advance(10)
    await store.get('k299')
    const second = store.flush() // k299 again, newer: written after the first
    const drained = store.flush() // nothing new: resolves once both are written (what an eviction relies on)
    await drained
    expect((await idbKeys(rawTimes)).length).toBe(300)
    expect(await idbGet('k000', rawTimes)).toBe(clock.now() - 10)
    expect(await idbGet('k299', rawTimes)).toBe(clock.now())
    await Promise.all([first, second])
  })

  it('reads never queue a readwrite transaction on the entries, even when they fill the batch', async () => {
    const { store, clock, dbName } = setup({ accessFlushBatch: 2 })
    await store.setMany(['a', 'b', 'c', 'd'].map((k) => [k, entry(k, clock.now())] as const))
    await store.flush()
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction')
    for (let i = 0; i < 3; i++) expect((await store.getMany(['a', 'b', 'c', 'd'])).map((e) => e?.value)).toEqual(['a', 'b', 'c', 'd'])
    await store.flush()
    const writes = transaction.mock.calls.flatMap((call, i) => (call[1] === 'readwrite' ? [(transaction.mock.contexts[i] as IDBDatabase).name] : []))
    expect(writes.length).toBeGreaterThan(0)
    expect(new Set(writes)).toEqual(new Set([`${dbName}-lru`]))
  })

  it('flushes pending access times after accessFlushInterval', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const { store, clock, rawTimes } = setup({ accessFlushInterval: '5s' })
      await store.set('a', entry('a', clock.now()))
      clock.advance(1_000)
      const put = vi.spyOn(IDBObjectStore.prototype, 'put')
      await store.get('a')
      expect(put).not.toHaveBeenCalled()
      await vi.advanceTimersByTimeAsync(5_000)
      vi.useRealTimers()
      await vi.waitFor(() => expect(put).toHaveBeenCalledWith(clock.now(), 'a'), { timeout: 10_000 })
      await vi.waitFor(async () => expect(await idbGet('a', rawTimes)).toBe(clock.now()), { timeout: 10_000 })
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

describe('indexedDbStore: access times in <dbName>-lru', () => {
  it('writes and reads record times there at the next flush; delete, sweep and clear remove them with their entries', async () => {
    const { store, clock, rawTimes } = setup()
    const put = vi.spyOn(IDBObjectStore.prototype, 'put')
    await store.setMany([
      ['a', entry('a', clock.now())],
      ['b', entry('b', clock.now(), 1_000)],
      ['c', entry('c', clock.now())],
    ])
    // The write is one transaction of the entries; its times wait in memory with those of reads.
    expect(put.mock.contexts.map((os) => (os as IDBObjectStore).name)).toEqual(['entries', 'entries', 'entries'])
    expect(await idbKeys(rawTimes)).toEqual([])
    await store.flush()
    expect(new Set(await idbKeys(rawTimes))).toEqual(new Set(['a', 'b', 'c']))
    expect(await idbGet('a', rawTimes)).toBe(clock.now())
    await store.delete('a')
    clock.advance(1_000)
    expect(await store.sweep()).toBe(1)
    await store.flush()
    expect(await idbKeys(rawTimes)).toEqual(['c'])
    await store.clear()
    expect(await idbKeys(rawTimes)).toEqual([])
  })

  it('an entry without a time (another tab wrote it, its time not in yet) counts as used at the eviction, and gets that time', async () => {
    const { store, clock, raw, rawTimes, events } = setup({ maxEntries: 4 })
    for (const k of ['a', 'b', 'c']) {
      await store.set(k, entry(k, clock.now()))
      clock.advance(10)
    }
    await idbSet('other-tab', toEnvelope(entry('x', clock.now())), raw)
    clock.advance(10)
    await store.set('d', entry('d', clock.now()))
    expect(events.map((e) => e.key)).toEqual(['a'])
    expect(await idbGet('other-tab', rawTimes)).toBe(clock.now())
    expect((await store.get('other-tab'))?.value).toBe('x')
  })

  it('drops times whose entry is gone (evicted or deleted by another tab)', async () => {
    const { store, clock, rawTimes } = setup({ maxEntries: 2 })
    await idbSet('gone', clock.now() - 5, rawTimes)
    for (const k of ['a', 'b', 'c']) await store.set(k, entry(k, clock.now()))
    expect(await store.count()).toBe(2)
    expect(await idbGet('gone', rawTimes)).toBeUndefined()
    expect((await idbKeys(rawTimes)).length).toBe(2)
  })

  it('still evicts when the access times cannot be read', async () => {
    const { store, clock } = setup({ maxEntries: 3 })
    const realGetAllKeys = IDBObjectStore.prototype.getAllKeys
    vi.spyOn(IDBObjectStore.prototype, 'getAllKeys').mockImplementation(function (this: IDBObjectStore, ...args) {
      if (this.name === 'access') throw new DOMException('broken', 'UnknownError')
      return realGetAllKeys.apply(this, args)
    })
    for (const k of ['a', 'b', 'c', 'd', 'e']) await store.set(k, entry(k, clock.now()))
    expect(await store.count()).toBeLessThanOrEqual(3)
    expect((await store.get('e'))?.value).toBe('e')
  })

  it('two tabs evicting at once keep the database bounded, and every entry left is readable', async () => {
    const { store: tabA, clock, dbName } = setup({ maxEntries: 10 })
    const tabB = indexedDbStore({ dbName, now: clock.now, maxEntries: 10 })
    opened.push(tabB)
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const tab = i % 2 === 0 ? tabA : tabB
        await tab.set(`k${i}`, entry(i, clock.now()))
        await tab.get(`k${i - 1}`)
      }),
    )
    expect(await tabA.count()).toBeLessThanOrEqual(10)
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`)
    const [fromA, fromB] = await Promise.all([tabA.getMany(keys), tabB.getMany(keys)])
    expect(fromA.filter(Boolean).length).toBe(await tabA.count())
    expect(fromB.map((e) => e?.value)).toEqual(fromA.map((e) => e?.value))
  })
})

describe('indexedDbStore: databases of the earlier layout (access times beside the entries)', () => {
  /** As an earlier version left them: entries, and their access times under array keys `[key]` in the same store. */
  async function legacy(raw: ReturnType<typeof createStore>, times: Record<string, number>, now: number): Promise<void> {
    for (const [key, at] of Object.entries(times)) {
      await idbSet(key, toEnvelope(entry(key, now)), raw)
      await idbSet([key], at, raw)
    }
  }

  it('never returns or counts those records, and eviction goes by their times, then removes them', async () => {
    const { store, clock, raw, rawTimes, events } = setup({ maxEntries: 4 })
    const t = clock.now()
    await legacy(raw, { a: t - 10, b: t - 100, c: t - 90, d: t - 80 }, t)
    expect(await store.count()).toBe(4)
    expect((await store.getMany(['a', 'b'])).map((e) => e?.value)).toEqual(['a', 'b'])
    clock.advance(200)
    await store.set('e', entry('e', clock.now()))
    // b, the oldest by its legacy time, was read since: c is the least recently used.
    expect(events).toEqual([{ type: 'evict', key: 'c', reason: 'capacity' }])
    expect((await idbKeys(raw)).every((k) => typeof k === 'string')).toBe(true)
    expect(await idbGet('b', rawTimes)).toBe(t)
    expect(await idbGet('c', rawTimes)).toBeUndefined()
    expect(await idbGet('d', rawTimes)).toBe(t - 80)
  })

  it('a sweep moves them to <dbName>-lru, keeping a later time stored there', async () => {
    const { store, clock, raw, rawTimes } = setup()
    const t = clock.now()
    await legacy(raw, { a: t - 50, b: t - 40 }, t)
    await idbSet('b', t - 10, rawTimes)
    await store.sweep()
    expect(await idbKeys(raw)).toEqual(['a', 'b'])
    expect(await idbGet('a', rawTimes)).toBe(t - 50)
    expect(await idbGet('b', rawTimes)).toBe(t - 10)
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
    await vi.waitFor(() => expect(sweep).toHaveBeenCalledTimes(1), { timeout: 10_000 })
    await vi.waitFor(async () => expect(await store.count()).toBe(1), { timeout: 10_000 })
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
      if (this.name === 'entries' && failures-- > 0) throw quota()
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
