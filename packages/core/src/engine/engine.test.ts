import { describe, expect, it, vi } from 'vitest'
import { createCache } from '../cache.js'
import type { Entry } from '../entry.js'
import type { CacheEvent } from '../stats.js'
import type { Store } from '../store.js'
import { memoryStore } from '../stores/memory.js'
import { manualClock, ScriptedStore } from '../test-support/helpers.js'

/** A store of this test, not a MemoryStore, with the optional sync capability. */
class SyncMapStore implements Store {
  readonly name = 'sync-map'
  readonly map = new Map<string, Entry>()
  readonly get = vi.fn(async (key: string) => this.map.get(key))
  readonly set = vi.fn(async (key: string, entry: Entry) => void this.map.set(key, entry))
  readonly delete = vi.fn(async (key: string) => void this.map.delete(key))
  failSync = false

  getSync(key: string): Entry | undefined {
    if (this.failSync) throw new Error('sync read failed')
    return this.map.get(key)
  }

  setSync(key: string, entry: Entry): void {
    this.map.set(key, entry)
  }
}

describe('the sync store capability', () => {
  it('gives any store with getSync/setSync the synchronous path: loads at once, writes and hits without a promise', async () => {
    const clock = manualClock()
    const store = new SyncMapStore()
    const cache = createCache({ tiers: [store], now: clock.now, policy: { ttl: 1000 } })
    const loader = vi.fn(() => 'v')
    const answer = cache.getOrSet('k', loader)
    // A single sync tier and an immediate loader: the load ran inside the call.
    expect(loader).toHaveBeenCalledTimes(1)
    expect(store.map.get(':k')?.value).toBe('v')
    expect(await answer).toBe('v')
    expect(await cache.getOrSet('k', loader)).toBe('v')
    expect(loader).toHaveBeenCalledTimes(1)
    expect(store.get).not.toHaveBeenCalled()
    expect(store.set).not.toHaveBeenCalled()
  })

  it('reads and fills a sync tier above an async one without its promise API', async () => {
    const clock = manualClock()
    const l1 = new SyncMapStore()
    const l2 = new ScriptedStore('l2')
    const cache = createCache({ tiers: [l1, l2], now: clock.now, policy: { ttl: 1000 } })
    const t = clock.now()
    l2.map.set(':k', { value: 'from-l2', createdAt: t, freshUntil: t + 1000, staleUntil: t + 1000 })
    expect(await cache.getOrSet('k', () => 'loaded')).toBe('from-l2')
    expect(l1.map.get(':k')?.value).toBe('from-l2')
    expect(l1.get).not.toHaveBeenCalled()
    expect(l1.set).not.toHaveBeenCalled()
  })

  it('treats a throwing getSync as a failing tier: reported, never thrown to the caller', async () => {
    const events: CacheEvent[] = []
    const store = new SyncMapStore()
    const cache = createCache({ tiers: [store], policy: { ttl: 1000 }, onEvent: (e) => events.push(e) })
    store.failSync = true
    expect(await cache.getOrSet('k', () => 'loaded')).toBe('loaded')
    expect(events.filter((e) => e.type === 'error').map((e) => e.error?.code)).toEqual(['TIER_ERROR'])
  })
})

describe('a background refresh of a fresh entry (early refresh) over a lower tier', () => {
  it('loads anew: the same entry, still fresh in the tier below, is not taken for another process refreshing it', async () => {
    const clock = manualClock()
    const l2 = new ScriptedStore('l2')
    // random() near 0 makes XFetch fire well before expiry: now - loadMs * beta * ln(1e-9) >= freshUntil.
    const cache = createCache({ tiers: [memoryStore(), l2], policy: { ttl: '100s', earlyRefresh: 1 }, now: clock.now, random: () => 1e-9 })
    let version = 0
    const load = async () => {
      clock.advance(1_000) // the load takes 1 s, so its entry records loadMs = 1000
      return ++version
    }
    expect(await cache.getOrSet('k', load)).toBe(1)
    clock.advance(85_000) // 14 s before expiry, within loadMs * -ln(1e-9) = 20.7 s
    expect(await cache.getOrSet('k', load)).toBe(1)
    await cache.idle()
    expect(version).toBe(2)
    expect([...l2.map.values()][0]?.value).toBe(2)
  })
})

describe('stale reads from a single memory tier (the stale-while-revalidate burst)', () => {
  const policy = { ttl: 1000, swr: 60_000 }

  /** One memoryStore under the default policy, a key loaded as 'v1' and now stale; the refresh is held until `gate`. */
  async function staleKey(onEvent?: (event: CacheEvent) => void) {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], now: clock.now, policy, ...(onEvent === undefined ? {} : { onEvent }) })
    await cache.getOrSet('k', () => 'v1')
    const loaded = clock.now()
    clock.advance(1500)
    let release!: (value: string) => void
    const gate = new Promise<string>((resolve) => (release = resolve))
    const refresh = vi.fn((ctx: { staleValue?: unknown }) => {
      seen.push(ctx.staleValue)
      return gate
    })
    const seen: unknown[] = []
    return { cache, clock, loaded, refresh, seen, release }
  }

  it('answers 1,000 concurrent stale reads with the stale value and runs the loader once; the next read gets the refreshed value', async () => {
    const { cache, refresh, seen, release } = await staleKey()
    const burst = Array.from({ length: 1000 }, () => cache.getOrSet('k', refresh))
    // The first read started the one refresh at once (nothing below L1 to look at first); the other 999 joined it.
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(seen).toEqual(['v1'])
    expect(new Set(await Promise.all(burst))).toEqual(new Set(['v1']))
    expect(cache.stats().staleHits).toBe(1000)
    release('v2')
    await cache.idle()
    expect(await cache.getOrSet('k', refresh)).toBe('v2')
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('gives listeners a stale event per read whose entry is a copy, unchanged when the key is written later', async () => {
    const events: CacheEvent[] = []
    const { cache, loaded, refresh, release } = await staleKey((event) => events.push(event))
    const burst = Array.from({ length: 1000 }, () => cache.getOrSet('k', refresh))
    expect(new Set(await Promise.all(burst))).toEqual(new Set(['v1']))
    release('v2')
    await cache.idle()
    const stale = events.filter((e) => e.type === 'stale')
    expect(stale).toHaveLength(1000)
    for (const e of stale) {
      expect(e.type === 'stale' && e.reason).toBe('swr')
      expect(e.type === 'stale' && { value: e.entry.value, createdAt: e.entry.createdAt, freshUntil: e.entry.freshUntil }).toEqual({
        value: 'v1',
        createdAt: loaded,
        freshUntil: loaded + 1000,
      })
    }
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('tells each read of the burst, through its status, that it answered stale while a refresh runs', async () => {
    const { cache, loaded, refresh, release } = await staleKey()
    const statuses = Array.from({ length: 1000 }, () => ({}) as import('./status.js').ReadStatus)
    const burst = statuses.map((status) => cache.getOrSet('k', refresh, undefined, { status }))
    expect(new Set(await Promise.all(burst))).toEqual(new Set(['v1']))
    for (const status of statuses) {
      expect(status).toMatchObject({ state: 'stale', tier: 0, refreshing: true, collapsed: false })
      expect(status.entry).toMatchObject({ value: 'v1', createdAt: loaded, freshUntil: loaded + 1000 })
    }
    expect(refresh).toHaveBeenCalledTimes(1)
    release('v2')
    await cache.idle()
  })

  it('does not copy the stored entry for a read that joins the refresh in flight', async () => {
    // A sync store handing out one entry object that records which of its fields are read (as memoryStore hands out a
    // view of its columns): a joining read needs its times and value only, not a copy of every field.
    const clock = manualClock()
    const store = new SyncMapStore()
    const cache = createCache({ tiers: [store], now: clock.now, policy })
    await cache.getOrSet('k', () => 'v1')
    const stored = store.map.get(':k') as Entry
    const read = new Set<string>()
    store.map.set(':k', new Proxy(stored, { get: (target, field, receiver) => (read.add(String(field)), Reflect.get(target, field, receiver)) }))
    clock.advance(1500)
    let release!: (value: string) => void
    const refresh = vi.fn(() => new Promise<string>((resolve) => (release = resolve)))
    expect(await cache.getOrSet('k', refresh)).toBe('v1')
    expect(refresh).toHaveBeenCalledTimes(1)
    read.clear()
    expect(await Promise.all(Array.from({ length: 999 }, () => cache.getOrSet('k', refresh)))).toEqual(Array(999).fill('v1'))
    expect(refresh).toHaveBeenCalledTimes(1)
    expect([...read].sort()).toEqual(['freshUntil', 'staleUntil', 'tags', 'value'])
    release('v2')
    await cache.idle()
  })
})

describe("an L1 read whose caller's code reads the store before the read has finished", () => {
  // memoryStore hands out a view of one slot, which its next read moves to another key: what the read reports or
  // keeps must be taken before a loader started at once or a listener can read the store.
  it('reports the stale entry of its own key when its refresh loader reads another key at once', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], now: clock.now, policy: { ttl: 1000, swr: 60_000 } })
    await cache.getOrSet('a', () => 'A1')
    const loaded = clock.now()
    clock.advance(1500)
    await cache.getOrSet('b', () => 'B1')
    const status: import('./status.js').ReadStatus = {}
    const seen: unknown[] = []
    const refresh = (ctx: { staleValue?: unknown }) => {
      seen.push(ctx.staleValue)
      void cache.getOrSet('b', () => 'B2')
      return new Promise<string>(() => {})
    }
    expect(await cache.getOrSet('a', refresh, undefined, { status })).toBe('A1')
    expect(seen).toEqual(['A1'])
    expect(status).toMatchObject({ state: 'stale', tier: 0, refreshing: true })
    expect(status.entry).toMatchObject({ value: 'A1', createdAt: loaded, freshUntil: loaded + 1000 })
  })

  it("reports a fresh hit's own entry when a listener of its hit event reads another key", async () => {
    const clock = manualClock()
    let cache!: ReturnType<typeof createCache>
    const onEvent = (event: CacheEvent) => {
      if (event.type === 'hit' && event.key === 'a') void cache.get('b')
    }
    cache = createCache({ tiers: [memoryStore()], now: clock.now, policy: { ttl: 1000 }, onEvent })
    await cache.getOrSet('a', () => 'A1')
    await cache.set('b', null)
    const status: import('./status.js').ReadStatus = {}
    expect(await cache.getOrSet('a', () => 'A2', undefined, { status })).toBe('A1')
    expect(status).toMatchObject({ state: 'fresh', tier: 0, refreshing: false })
    expect(status.entry?.value).toBe('A1')
  })
})
