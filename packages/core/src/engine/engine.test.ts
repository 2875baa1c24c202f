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
