// Tag invalidation by coordinator stamps: caches whose clocks disagree share an L2 and a coordinator, and an entry
// lives or dies by the order of loads and invalidations, never by whose clock is ahead.
import { describe, expect, it, vi } from 'vitest'
import { createCache, type Cache } from './cache.js'
import { memoryCoordinator, nextStamp, type ClockCoordinator, type Coordinator } from './coordinator.js'
import type { Entry } from './entry.js'
import type { Policy } from './policy.js'
import { memoryStore, type MemoryStore } from './stores/memory.js'
import { deferred, manualClock } from './test-support/helpers.js'

const policy: Policy = { ttl: '1h', tags: ['product:1'] }

/** Two "machines": each its own clock and L1, one shared L2 and one coordinator (with a clock of its own). */
function twoMachines(skewMs: number) {
  const clock = manualClock()
  const coordinator = memoryCoordinator({ now: clock.now })
  const shared: MemoryStore = memoryStore()
  const make = (offset: number): Cache =>
    createCache({ tiers: [memoryStore(), shared], coordinator, now: () => clock.now() + offset, policy: { ttl: '1h' } })
  return { clock, shared, a: make(skewMs), b: make(0) }
}

function counting(value: () => string) {
  const loader = vi.fn(value)
  return loader
}

describe('two caches, one L2 and one coordinator, clocks 500 ms apart', () => {
  for (const skew of [500, -500]) {
    const label = skew > 0 ? 'ahead' : 'behind'

    it(`clock ${label}: an entry loaded before the other cache invalidated its tag is never served after it`, async () => {
      const { clock, a, b } = twoMachines(skew)
      let version = 'v1'
      const load = counting(() => version)
      expect(await a.getOrSet('product:1', load, policy)).toBe('v1')
      await a.idle()
      clock.advance(100)
      version = 'v2'
      await b.invalidateTags(['product:1'])
      clock.advance(100)
      // A's own L1 copy, and the shared L2 copy read by B: both dead.
      expect(await a.getOrSet('product:1', load, policy)).toBe('v2')
      expect(await b.getOrSet('product:1', () => 'from b', policy)).not.toBe('v1')
    })

    it(`clock ${label}: an entry loaded after the invalidation lives, in both caches, and is loaded once`, async () => {
      const { clock, a, b } = twoMachines(skew)
      await b.getOrSet('product:1', () => 'v1', policy)
      clock.advance(100)
      await b.invalidateTags(['product:1'])
      clock.advance(100)
      const load = counting(() => 'v2')
      expect(await a.getOrSet('product:1', load, policy)).toBe('v2')
      await a.idle()
      clock.advance(100)
      expect(await a.getOrSet('product:1', load, policy)).toBe('v2')
      const reloadInB = counting(() => 'b reloaded')
      expect(await b.getOrSet('product:1', reloadInB, policy)).toBe('v2')
      expect(load).toHaveBeenCalledTimes(1)
      expect(reloadInB).not.toHaveBeenCalled()
    })
  }

  it('a clock far behind (a day) still sees the invalidation that came after its load', async () => {
    const { clock, a, b } = twoMachines(-86_400_000)
    await a.getOrSet('product:1', () => 'old', policy)
    await a.idle()
    clock.advance(1)
    await b.invalidateTags(['product:1'])
    expect(await a.getOrSet('product:1', () => 'new', policy)).toBe('new')
  })
})

describe('the same millisecond', () => {
  it('a value reloaded in the millisecond of the invalidation is served (not reloaded on every call)', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore(), memoryStore()], now: clock.now, policy: { ttl: '1h' } })
    await cache.getOrSet('k', () => 'old', policy)
    await cache.invalidateTags(['product:1'])
    const load = counting(() => 'new')
    expect(await cache.getOrSet('k', load, policy)).toBe('new')
    expect(await cache.getOrSet('k', load, policy)).toBe('new')
    expect(await cache.get('k')).toBe('new')
    expect(load).toHaveBeenCalledTimes(1)
  })

  it('a load that started before the invalidation (same millisecond) is dead once it lands', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore(), memoryStore()], now: clock.now, policy: { ttl: '1h' } })
    const gate = deferred<string>()
    const started = deferred<void>()
    const first = cache.getOrSet('k', () => (started.resolve(), gate.promise), policy)
    await started.promise
    await cache.invalidateTags(['product:1'])
    gate.resolve('read before the change')
    // The caller that asked before the invalidation gets what it asked for...
    expect(await first).toBe('read before the change')
    await cache.idle()
    // ...but nobody after it.
    expect(await cache.getOrSet('k', () => 'read after the change', policy)).toBe('read after the change')
  })

  it('several invalidations in one millisecond get increasing stamps; each kills what was loaded before it', async () => {
    const clock = manualClock()
    const coordinator = memoryCoordinator({ now: clock.now })
    const cache = createCache({ tiers: [memoryStore()], coordinator, now: clock.now, policy: { ttl: '1h' } })
    for (let round = 0; round < 5; round++) {
      expect(await cache.getOrSet('k', () => `v${round}`, policy)).toBe(`v${round}`)
      expect(await cache.getOrSet('k', () => 'not reloaded', policy)).toBe(`v${round}`)
      await cache.invalidateTags(['product:1'])
    }
    expect(coordinator.stamp()).toBe(clock.now() + 4)
  })

  it('getManyOrSet and set stamp their entries too', async () => {
    const clock = manualClock()
    const l2 = memoryStore()
    const cache = createCache({ tiers: [memoryStore(), l2], now: clock.now, policy: { ttl: '1h' } })
    await cache.invalidateTags(['product:1'])
    await cache.getManyOrSet(['a', 'b'], (keys) => keys.map((key) => `${key}!`), policy)
    await cache.set('c', 'set', policy)
    await cache.idle()
    for (const key of [':a', ':b', ':c']) expect(l2.peek(key)?.stamp).toBe(clock.now())
    const load = vi.fn((keys: string[]) => keys.map(() => 'reloaded'))
    expect(await cache.getManyOrSet(['a', 'b', 'c'], load, policy)).toEqual(['a!', 'b!', 'set'])
    expect(load).not.toHaveBeenCalled()
  })

  it('untagged entries carry no stamp (nothing can kill them by tag)', async () => {
    const l1 = memoryStore()
    const cache = createCache({ tiers: [l1], policy: { ttl: '1h' } })
    await cache.invalidateTags(['x'])
    await cache.getOrSet('k', () => 'v')
    expect(l1.peek(':k')?.stamp).toBeUndefined()
  })
})

describe('entries written by 0.1 (no stamp)', () => {
  it('are judged by createdAt against the tag stamp, as 0.1 judged them', async () => {
    const clock = manualClock()
    const l2 = memoryStore()
    const cache = createCache({ tiers: [memoryStore(), l2], now: clock.now, policy: { ttl: '1h' } })
    const old = (createdAt: number): Entry => ({ value: 'old', createdAt, freshUntil: createdAt + 3_600_000, staleUntil: createdAt + 3_600_000, tags: [':product:1'] })
    l2.write(':before', old(clock.now() - 10))
    await cache.invalidateTags(['product:1'])
    l2.write(':after', old(clock.now() + 10))
    expect(await cache.getOrSet('before', () => 'reloaded', policy)).toBe('reloaded')
    expect(await cache.getOrSet('after', () => 'reloaded', policy)).toBe('old')
  })
})

describe('third-party coordinators', () => {
  it('a 0.1 coordinator without stamps (invalidatedAt) keeps working with its clock rule', async () => {
    const clock = manualClock()
    const times = new Map<string, number>()
    const legacy: ClockCoordinator = {
      name: 'legacy',
      invalidatedAt: (tags) => Math.max(0, ...tags.map((tag) => times.get(tag) ?? 0)),
      invalidateTags: async (tags, at) => {
        for (const tag of tags) times.set(tag, at)
      },
    }
    const cache = createCache({ tiers: [memoryStore(), memoryStore()], coordinator: legacy, now: clock.now, policy: { ttl: '1h' } })
    expect(await cache.getOrSet('k', () => 'v1', policy)).toBe('v1')
    clock.advance(10)
    await cache.invalidateTags(['product:1'])
    expect(times.get(':product:1')).toBe(clock.now())
    clock.advance(10)
    expect(await cache.getOrSet('k', () => 'v2', policy)).toBe('v2')
    expect(await cache.getOrSet('k', () => 'v3', policy)).toBe('v2')
  })

  it('a coordinator that is neither is refused with a message naming what is missing', () => {
    const tiers = [memoryStore()]
    expect(() => createCache({ tiers, coordinator: { name: 'half', stamp: () => 0 } as unknown as Coordinator })).toThrow(
      /options\.coordinator must implement stamp\(\), tagStamp\(tags\) and invalidateTags\(tags\) \(see Coordinator\); it has no tagStamp, invalidateTags/,
    )
    expect(() => createCache({ tiers, coordinator: {} as unknown as Coordinator })).toThrow(/it has no stamp, tagStamp, invalidateTags/)
    expect(() => createCache({ tiers, coordinator: 'redis' as unknown as Coordinator })).toThrow(/options\.coordinator must be a Coordinator, got string/)
  })

  it('a stamp coordinator whose stamp() fails: the load goes on with stamp 0 (its entry may only die early), reported', async () => {
    const errors: string[] = []
    const flaky: Coordinator = {
      name: 'flaky',
      stamp: () => Promise.reject(new Error('down')),
      tagStamp: () => 5,
      invalidateTags: async () => 5,
    }
    const cache = createCache({ tiers: [memoryStore()], coordinator: flaky, policy: { ttl: '1h' }, onEvent: (e) => e.type === 'error' && errors.push(e.error.code) })
    expect(await cache.getOrSet('k', () => 'v', policy)).toBe('v')
    expect(errors).toContain('COORDINATOR_ERROR')
    // Stamp 0 < the tag's 5: dead at once, loaded again (never served too long).
    expect(await cache.getOrSet('k', () => 'again', policy)).toBe('again')
  })

  it('an asynchronous stamp() delays the load until it is known', async () => {
    const order: string[] = []
    const gate = deferred<number>()
    const slow: Coordinator = {
      name: 'slow',
      stamp: () => {
        order.push('stamp asked')
        return gate.promise.then((s) => (order.push('stamp known'), s))
      },
      tagStamp: () => 0,
      invalidateTags: async () => 1,
    }
    const l1 = memoryStore()
    const cache = createCache({ tiers: [l1], coordinator: slow, policy: { ttl: '1h' } })
    const answer = cache.getOrSet('k', () => (order.push('loader'), 'v'), policy)
    await Promise.resolve()
    gate.resolve(42)
    expect(await answer).toBe('v')
    expect(order).toEqual(['stamp asked', 'stamp known', 'loader'])
    expect(l1.peek(':k')?.stamp).toBe(42)
  })
})

describe('loads without tags', () => {
  it('do not wait for a stamp the coordinator must ask for (only a tagged entry keeps one); the next load knows it', async () => {
    let asked = 0
    let known: number | undefined
    const gate = deferred<number>()
    const slow: Coordinator = {
      name: 'slow',
      stamp: () => {
        asked++
        return known ?? gate.promise.then((s) => (known = s))
      },
      tagStamp: () => 0,
      invalidateTags: async () => 1,
    }
    const l1 = memoryStore()
    const l2 = memoryStore()
    const cache = createCache({ tiers: [l1, l2], coordinator: slow, policy: { ttl: '1h' } })
    // Neither a load, a batch nor a set of an untagged value waits for the pending stamp.
    expect(await cache.getOrSet('plain', () => 'v')).toBe('v')
    expect(await cache.getManyOrSet(['m1', 'm2'], (keys) => keys.map((key) => `${key}!`))).toEqual(['m1!', 'm2!'])
    await cache.set('s', 'set')
    expect(asked).toBeGreaterThan(0)
    expect(l2.peek(':plain')?.stamp).toBeUndefined()
    // A tagged load waits for it, and records it.
    const tagged = cache.getOrSet('tagged', () => 'w', policy)
    gate.resolve(42)
    expect(await tagged).toBe('w')
    await cache.idle()
    expect(l2.peek(':tagged')?.stamp).toBe(42)
  })
})

describe('nextStamp', () => {
  it('follows the clock while it moves forward, and counts up when it does not', () => {
    expect(nextStamp(0, 1000.9)).toBe(1000)
    expect(nextStamp(1000, 1000)).toBe(1001)
    expect(nextStamp(1001, 500)).toBe(1002)
    expect(nextStamp(5, Number.NaN)).toBe(6)
  })
})
