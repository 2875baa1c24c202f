// Refresh backoff (issue 9): a key whose loader keeps failing while a stale value answers is not reloaded on every
// read; the pause doubles per failure up to a cap, with jitter from the injected random, and ends on a success.
import { describe, expect, it } from 'vitest'
import { createCache } from '../cache.js'
import type { Policy } from '../policy.js'
import type { CacheEvent } from '../stats.js'
import { memoryStore } from '../stores/memory.js'
import { manualClock } from '../test-support/helpers.js'

/** A cache over one memory tier, a loader that fails while `down`, and counts of its calls. */
function setup(policy: Policy, random = () => 0.5) {
  const clock = manualClock()
  const events: CacheEvent[] = []
  const cache = createCache({ tiers: [memoryStore()], policy, now: clock.now, random, onEvent: (e) => events.push(e) })
  const origin = { calls: 0, down: false, version: 0 }
  const loader = (): string => {
    origin.calls++
    if (origin.down) throw new Error('database down')
    return `v${++origin.version}`
  }
  /** One read, its background work settled. */
  const read = async (): Promise<unknown> => {
    const value = await cache.getOrSet('k', loader)
    await cache.idle()
    return value
  }
  return { clock, cache, origin, read, events }
}

describe('refresh backoff', () => {
  it('stale-while-revalidate: a failing refresh is retried after 1 s, 2 s, 4 s ... (x0.75-1.25 jitter), not on every read', async () => {
    const { clock, origin, read, cache } = setup({ ttl: '1s', swr: '1h' })
    expect(await read()).toBe('v1')
    clock.advance(2_000)
    origin.down = true
    expect(await read()).toBe('v1') // stale; its refresh fails
    expect(origin.calls).toBe(2)
    for (let i = 0; i < 20; i++) expect(await read()).toBe('v1')
    // Before: one refresh, hence one loader call, per read.
    expect(origin.calls).toBe(2)
    clock.advance(999)
    await read()
    expect(origin.calls).toBe(2)
    clock.advance(1)
    await read() // 1 s (random 0.5: no stretch) after the first failure
    expect(origin.calls).toBe(3)
    clock.advance(1_999)
    await read()
    expect(origin.calls).toBe(3)
    clock.advance(1)
    await read() // 2 s after the second
    expect(origin.calls).toBe(4)
    // The database is back: the next attempt (4 s later) succeeds, and the backoff is forgotten.
    origin.down = false
    clock.advance(4_000)
    expect(await read()).toBe('v1')
    expect(origin.calls).toBe(5)
    expect(await read()).toBe('v2')
    clock.advance(2_000)
    origin.down = true
    await read()
    expect(origin.calls).toBe(6)
    clock.advance(1_000) // 1 s again, not 8 s: the success reset it
    await read()
    expect(origin.calls).toBe(7)
    expect(cache.stats().refreshes).toBe(6)
  })

  it('caps the pause at 30 s, stretched by the injected random', async () => {
    const { clock, origin, read } = setup({ ttl: '1s', swr: '1d' }, () => 0.999)
    await read()
    clock.advance(2_000)
    origin.down = true
    const pauses: number[] = []
    let last = origin.calls
    let since = 0
    for (let t = 0; t < 400_000 && pauses.length < 8; t += 100) {
      clock.advance(100)
      since += 100
      await read()
      if (origin.calls !== last) {
        if (last > 1) pauses.push(since)
        last = origin.calls
        since = 0
      }
    }
    // 1, 2, 4, 8, 16, then the 30 s cap, each x1.2495 (rounded up to the 100 ms steps of this loop).
    expect(pauses).toEqual([1_300, 2_500, 5_000, 10_000, 20_000, 37_500, 37_500, 37_500])
  })

  it('stale-if-error: while the loader keeps failing, the stale value answers without calling it on every read', async () => {
    const { clock, origin, read, events } = setup({ ttl: '1s', staleIfError: '1h' })
    expect(await read()).toBe('v1')
    clock.advance(2_000)
    origin.down = true
    for (let i = 0; i < 10; i++) expect(await read()).toBe('v1')
    // Before: a foreground load (and a failure) per read.
    expect(origin.calls).toBe(2)
    expect(events.filter((e) => e.type === 'stale' && e.reason === 'error')).toHaveLength(10)
    clock.advance(1_000)
    origin.down = false
    expect(await read()).toBe('v2')
    expect(origin.calls).toBe(3)
  })

  it('without a stale value the loader still runs for every caller, and its error reaches them', async () => {
    const { origin, read } = setup({ ttl: '1s' })
    origin.down = true
    await expect(read()).rejects.toThrow('database down')
    await expect(read()).rejects.toThrow('database down')
    expect(origin.calls).toBe(2)
  })

  it('getManyOrSet backs off the keys whose refresh failed', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1s', swr: '1h' }, now: clock.now, random: () => 0.5 })
    let calls = 0
    let down = false
    const loadMany = (keys: string[]): string[] => {
      calls++
      if (down) throw new Error('database down')
      return keys.map((k) => `${k}1`)
    }
    expect(await cache.getManyOrSet(['a', 'b'], loadMany)).toEqual(['a1', 'b1'])
    clock.advance(2_000)
    down = true
    for (let i = 0; i < 5; i++) {
      expect(await cache.getManyOrSet(['a', 'b'], loadMany)).toEqual(['a1', 'b1'])
      await cache.idle()
    }
    // Before: one refresh batch per call.
    expect(calls).toBe(2)
    clock.advance(1_000)
    await cache.getManyOrSet(['a', 'b'], loadMany)
    await cache.idle()
    expect(calls).toBe(3)
  })
})
