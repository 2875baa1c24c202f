import { describe, expect, it } from 'vitest'
import { createCache } from '../cache.js'
import { memoryCoordinator } from '../coordinator.js'
import { memoryStore } from '../stores/memory.js'
import { refreshAhead } from './refresh-ahead.js'
import { deferred, flush, manualClock, ScriptedStore } from '../test-support/helpers.js'

const SECOND = 1_000

function noRandom(): number {
  throw new Error('refresh-ahead must not use randomness')
}

describe('refresh-ahead (policy.refreshAhead)', () => {
  it('refreshes a hot entry in the background once read past the fraction of its ttl, then no more', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], strategies: [refreshAhead()], policy: { ttl: '100s', refreshAhead: 0.8 }, now: clock.now, random: noRandom })
    let version = 0
    const load = () => ({ version: ++version })
    await cache.getOrSet('price:1', load)
    for (let t = 10; t < 80; t += 10) {
      clock.advance(10 * SECOND)
      await cache.getOrSet('price:1', load)
    }
    await cache.idle()
    expect(version).toBe(1) // read often, but before 80 s of its 100 s
    clock.advance(10 * SECOND) // 80 s: due
    expect(await cache.getOrSet('price:1', load)).toEqual({ version: 1 }) // answered at once with the current value
    await cache.idle()
    expect(version).toBe(2)
    expect(await cache.getOrSet('price:1', load)).toEqual({ version: 2 })
    // The new entry starts its own life: no refresh until 80 s into it, however often it is read.
    for (let i = 0; i < 10; i++) await cache.getOrSet('price:1', load)
    await cache.idle()
    expect(version).toBe(2)
    expect(cache.stats().refreshes).toBe(1)
  })

  it('leaves a key read fewer than minReads times to expire normally', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], strategies: [refreshAhead()], policy: { ttl: '100s', refreshAhead: { at: 0.5, minReads: 3 } }, now: clock.now })
    let loads = 0
    const load = () => ++loads
    await cache.getOrSet('cold', load) // the miss that loads it
    clock.advance(60 * SECOND)
    await cache.getOrSet('cold', load) // hit 1, past 50 %
    await cache.getOrSet('cold', load) // hit 2: not hot enough
    await cache.idle()
    expect(loads).toBe(1)
    await cache.getOrSet('cold', load) // hit 3: now it is
    await cache.idle()
    expect(loads).toBe(2)
  })

  it('also refreshes an entry found in a lower tier, and replaces it there', async () => {
    const clock = manualClock()
    const l2 = new ScriptedStore('l2')
    const cache = createCache({ tiers: [memoryStore(), l2], strategies: [refreshAhead()], policy: { ttl: '100s', refreshAhead: 0.8 }, now: clock.now })
    let version = 0
    const load = () => ({ version: ++version })
    await cache.getOrSet('k', load)
    clock.advance(85 * SECOND)
    await cache.getOrSet('k', load)
    await cache.getOrSet('k', load) // L1 hit, past 80 %, read twice: due. L2 holds the same entry: no refresh by itself.
    await cache.idle()
    expect(version).toBe(2)
    expect([...l2.map.values()][0]?.value).toEqual({ version: 2 })
  })

  it('a refresh that read the database before a write does not put its older value back over the write, in any tier', async () => {
    const clock = manualClock()
    const l2 = new ScriptedStore('l2')
    const cache = createCache({ tiers: [memoryStore(), l2], strategies: [refreshAhead()], policy: { ttl: '100s', refreshAhead: 0.8 }, now: clock.now })
    const db = { price: 1 }
    const gate = deferred<void>()
    let gated = false
    let loads = 0
    const load = async () => {
      loads++
      const seen = { ...db } // what the database held when the load began
      if (gated) await gate.promise
      return seen
    }
    await cache.getOrSet('price:1', load)
    clock.advance(85 * SECOND)
    gated = true
    await cache.getOrSet('price:1', load)
    await cache.getOrSet('price:1', load) // due and hot: the refresh starts, reads price 1, and is held
    await flush()
    expect(loads).toBe(2)
    await cache.write('price:1', { price: 2 }, (value) => void Object.assign(db, value))
    gate.resolve()
    await cache.idle()
    expect(await cache.getOrSet('price:1', load)).toEqual({ price: 2 })
    expect([...l2.map.values()].map((entry) => entry.value)).toEqual([{ price: 2 }])
  })

  it('with a coordinator and a shared tier, one process refreshes a key; the others pick up its result', async () => {
    const clock = manualClock()
    const shared = new ScriptedStore('shared')
    const coordinator = memoryCoordinator({ now: clock.now })
    const policy = { ttl: '100s', refreshAhead: 0.8 } as const
    const processes = [0, 1, 2].map(() =>
      createCache({ tiers: [memoryStore(), shared], coordinator, strategies: [refreshAhead()], policy, now: clock.now, lockWait: '50ms' }),
    )
    let runs = 0
    const slow = deferred<void>()
    const load = async () => {
      const run = ++runs
      if (run > 1) await slow.promise
      return { run }
    }
    await processes[0]?.getOrSet('k', load)
    for (const cache of processes) await cache.getOrSet('k', load) // every L1 holds it (L2 fills them)
    clock.advance(85 * SECOND)
    for (const cache of processes) {
      await cache.getOrSet('k', load)
      await cache.getOrSet('k', load)
    }
    await flush()
    slow.resolve()
    for (const cache of processes) await cache.idle()
    expect(runs).toBe(2) // the first load, and one refresh across the three
    // The others find the refreshed entry in the shared tier at their next due read, without loading.
    for (const cache of processes) {
      await cache.getOrSet('k', load)
      await cache.idle()
    }
    expect(runs).toBe(2)
    for (const cache of processes) expect(await cache.getOrSet('k', load)).toEqual({ run: 2 })
  })

  it('needs the strategy: a policy asking for it without throws, naming what to install', () => {
    const cache = createCache({ tiers: [memoryStore()] })
    expect(() => cache.getOrSet('k', () => 1, { ttl: '1m', refreshAhead: 0.8 })).toThrow(
      /policy\.refreshAhead needs createCache\({ strategies: \[refreshAhead\(\)\]/,
    )
    expect(() => createCache({ tiers: [memoryStore()], policy: { ttl: '1m', refreshAhead: 0.8 } })).toThrow(/options\.policy\.refreshAhead needs createCache/)
  })

  it('validates the policy', () => {
    const cache = createCache({ tiers: [memoryStore()], strategies: [refreshAhead()] })
    expect(() => cache.resolvePolicy({ ttl: '1m', refreshAhead: 1 })).toThrow(/policy\.refreshAhead must be false, a fraction/)
    expect(() => cache.resolvePolicy({ ttl: '1m', refreshAhead: 0 })).toThrow(RangeError)
    expect(() => cache.resolvePolicy({ ttl: '1m', refreshAhead: { at: 0.5, minReads: 16 } })).toThrow(/minReads must be an integer from 1 to 15/)
    expect(() => cache.resolvePolicy({ ttl: 0, refreshAhead: 0.5 })).toThrow(/refreshAhead needs policy\.ttl > 0/)
    expect(cache.resolvePolicy({ ttl: '1m', refreshAhead: { at: 0.9, minReads: 5 } })).toMatchObject({ refreshAhead: 0.9, refreshAheadMinReads: 5 })
    expect(cache.resolvePolicy({ ttl: '1m', refreshAhead: false })).toMatchObject({ refreshAhead: 0 })
  })
})
