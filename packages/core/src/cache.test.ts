import { afterEach, describe, expect, it, vi } from 'vitest'
import { createCache, type CacheOptions } from './cache.js'
import { memoryCoordinator, type Coordinator } from './coordinator.js'
import type { Entry } from './entry.js'
import type { CacheEvent } from './stats.js'
import { memoryStore, type MemoryStore } from './stores/memory.js'
import { deferred, flush, manualClock, ScriptedStore } from './test-support/helpers.js'

function setup(overrides: Partial<CacheOptions> = {}) {
  const clock = manualClock()
  const l1 = memoryStore({ name: 'l1' })
  const l2 = new ScriptedStore('l2')
  const events: CacheEvent[] = []
  const cache = createCache({
    tiers: [l1, l2],
    now: clock.now,
    policy: { ttl: '1m' },
    onEvent: (e) => events.push(e),
    ...overrides,
  })
  return { cache, clock, l1, l2, events }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('getOrSet: cache-aside', () => {
  it('loads a miss once, writes every tier, then answers from L1', async () => {
    const { cache, l1, l2 } = setup()
    const loader = vi.fn(() => ({ id: 1 }))
    expect(await cache.getOrSet('k', loader)).toEqual({ id: 1 })
    await cache.idle()
    expect(l1.peek(':k')?.value).toEqual({ id: 1 })
    expect(l2.map.get(':k')?.value).toEqual({ id: 1 })
    expect(await cache.getOrSet('k', loader)).toEqual({ id: 1 })
    expect(loader).toHaveBeenCalledTimes(1)
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, loads: 1 })
  })

  it('runs the loader once for 1,000 concurrent callers of one missing key', async () => {
    const { cache } = setup()
    const gate = deferred<string>()
    const loader = vi.fn(() => gate.promise)
    const calls = Array.from({ length: 1000 }, () => cache.getOrSet('hot', loader))
    await flush(20)
    gate.resolve('value')
    const values = await Promise.all(calls)
    expect(loader).toHaveBeenCalledTimes(1)
    expect(new Set(values)).toEqual(new Set(['value']))
    expect(cache.stats().coalesced).toBe(999)
  })

  it('gives every concurrent caller the same loader error, once', async () => {
    const { cache } = setup()
    const boom = new Error('origin down')
    const loader = vi.fn(async () => {
      await flush()
      throw boom
    })
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => cache.getOrSet('k', loader)))
    expect(loader).toHaveBeenCalledTimes(1)
    for (const r of results) expect(r).toEqual({ status: 'rejected', reason: boom })
  })

  it('passes the key, an abort signal and the stale value to the loader', async () => {
    const { cache, clock } = setup()
    await cache.getOrSet('k', () => 'old', { ttl: 1000, swr: 1000 })
    clock.advance(1500)
    const seen = deferred<{ key: string; stale: unknown; aborted: boolean }>()
    await cache.getOrSet('k', (ctx) => {
      seen.resolve({ key: ctx.key, stale: ctx.staleValue, aborted: ctx.signal.aborted })
      return 'new'
    }, { ttl: 1000, swr: 1000 })
    expect(await seen.promise).toEqual({ key: 'k', stale: 'old', aborted: false })
  })

  it('tells the loader whether a caller waits on it', async () => {
    const { cache, clock } = setup()
    const seen: boolean[] = []
    const loader = (ctx: { background: boolean }) => {
      seen.push(ctx.background)
      return 'v'
    }
    await cache.getOrSet('k', loader, { ttl: 1000, swr: 5000 })
    clock.advance(1500)
    await cache.getOrSet('k', loader, { ttl: 1000, swr: 5000 })
    await cache.idle()
    expect(seen).toEqual([false, true])
  })

  it('hands its injected clock to stores that judge expiry themselves', () => {
    const clock = manualClock()
    const store = new ScriptedStore('custom')
    const received: (() => number)[] = []
    Object.assign(store, { useClock: (now: () => number) => received.push(now) })
    createCache({ tiers: [store], now: clock.now, policy: { ttl: 1 } })
    expect(received).toEqual([clock.now])
  })

  it('lets the loader shorten its own entry with setPolicy', async () => {
    const { cache, clock } = setup()
    const loader = vi.fn((ctx: { setPolicy(p: object): void }) => {
      ctx.setPolicy({ ttl: '5s' })
      return 'volatile'
    })
    await cache.getOrSet('k', loader)
    clock.advance(4_999)
    await cache.getOrSet('k', loader)
    expect(loader).toHaveBeenCalledTimes(1)
    clock.advance(2)
    await cache.getOrSet('k', loader)
    expect(loader).toHaveBeenCalledTimes(2)
  })

  it('rejects a bad setPolicy inside the loader as the load error', async () => {
    const { cache } = setup()
    await expect(cache.getOrSet('k', (ctx) => { ctx.setPolicy({ ttl: -5 }); return 1 })).rejects.toThrow(/ctx\.setPolicy\(policy\)\.ttl must not be negative/)
  })

  it('merges a call policy over the defaults', async () => {
    const { cache, clock } = setup({ policy: { ttl: '1m', swr: '1m' } })
    const loader = vi.fn(() => 'v')
    await cache.getOrSet('k', loader, { ttl: '10s' })
    clock.advance(15_000) // past the call's ttl, within the default swr
    expect(await cache.getOrSet('k', loader, { ttl: '10s' })).toBe('v')
    await cache.idle()
    expect(loader).toHaveBeenCalledTimes(2)
  })
})

describe('stale-while-revalidate', () => {
  const policy = { ttl: 1000, swr: 5000 }

  it('answers a burst of stale reads at once and refreshes once in the background', async () => {
    const { cache, clock, events } = setup()
    await cache.getOrSet('k', () => 'v1', policy)
    clock.advance(1500)
    const gate = deferred<string>()
    const refresh = vi.fn(() => gate.promise)
    const burst = await Promise.all(Array.from({ length: 1000 }, () => cache.getOrSet('k', refresh, policy)))
    expect(new Set(burst)).toEqual(new Set(['v1']))
    // The refresh first checks L2 for a fresher copy, then calls the loader.
    await flush(20)
    expect(refresh).toHaveBeenCalledTimes(1)
    gate.resolve('v2')
    await cache.idle()
    expect(await cache.getOrSet('k', refresh, policy)).toBe('v2')
    expect(refresh).toHaveBeenCalledTimes(1)
    expect(events.filter((e) => e.type === 'load' && e.background)).toHaveLength(1)
    expect(cache.stats().staleHits).toBe(1000)
  })

  it('keeps answering stale when the background refresh fails, with no unhandled rejection', async () => {
    const { cache, clock, events } = setup()
    await cache.getOrSet('k', () => 'v1', policy)
    clock.advance(1500)
    const failing = vi.fn(async () => {
      throw new Error('origin down')
    })
    expect(await cache.getOrSet('k', failing, policy)).toBe('v1')
    await cache.idle()
    // The next refresh runs once the backoff after the first failure (at most 1.25 s) has passed.
    clock.advance(1250)
    expect(await cache.getOrSet('k', failing, policy)).toBe('v1')
    await cache.idle()
    expect(events.filter((e) => e.type === 'error' && e.error?.code === 'LOADER_ERROR')).toHaveLength(2)
    expect(cache.stats().loadErrors).toBe(2)
  })

  it('loads in the foreground once the swr window has passed', async () => {
    const { cache, clock } = setup()
    await cache.getOrSet('k', () => 'v1', policy)
    clock.advance(6000)
    expect(await cache.getOrSet('k', () => 'v2', policy)).toBe('v2')
  })

  it('never copies a stale entry up, so it cannot overwrite the refresh that replaces it', async () => {
    const clock = manualClock()
    const l1 = new ScriptedStore('l1')
    const l2 = new ScriptedStore('l2')
    const cache = createCache({ tiers: [l1, l2], now: clock.now, policy: { ttl: 1000, swr: 5000 } })
    const t = clock.now()
    l2.map.set(':k', { value: 'stale', createdAt: t - 2000, freshUntil: t - 1000, staleUntil: t + 4000 })
    const writtenToL1: unknown[] = []
    const set = l1.set.bind(l1)
    l1.set = async (key, entry) => {
      writtenToL1.push(entry.value)
      return set(key, entry)
    }
    expect(await cache.getOrSet('k', () => 'fresh', { ttl: 1000, swr: 5000 })).toBe('stale')
    await cache.idle()
    expect(writtenToL1).toEqual(['fresh'])
    expect(l1.map.get(':k')?.value).toBe('fresh')
  })

  it('takes a fresher entry from L2 instead of loading when L1 is stale', async () => {
    const { cache, clock, l1, l2 } = setup()
    await cache.getOrSet('k', () => 'v1', policy)
    await cache.idle()
    clock.advance(1500)
    // Another isolate refreshed the shared tier meanwhile.
    l2.map.set(':k', { value: 'v2', createdAt: clock.now(), freshUntil: clock.now() + 1000, staleUntil: clock.now() + 6000 })
    const loader = vi.fn(() => 'v3')
    expect(await cache.getOrSet('k', loader, policy)).toBe('v1')
    await cache.idle()
    expect(loader).not.toHaveBeenCalled()
    expect(l1.peek(':k')?.value).toBe('v2')
  })
})

describe('stale-if-error', () => {
  const policy = { ttl: 1000, staleIfError: 4000 }

  it('answers the stale value when the loader fails inside the window, up to its last millisecond', async () => {
    const { cache, clock, events } = setup()
    await cache.getOrSet('k', () => 'good', policy)
    clock.advance(4999) // freshUntil + staleIfError - 1
    const failing = vi.fn(async () => {
      throw new Error('origin down')
    })
    expect(await cache.getOrSet('k', failing, policy)).toBe('good')
    expect(failing).toHaveBeenCalledTimes(1)
    expect(events.some((e) => e.type === 'stale' && e.reason === 'error')).toBe(true)
    expect(events.some((e) => e.type === 'error' && e.error?.code === 'LOADER_ERROR')).toBe(true)
  })

  it('lets the error reach the caller once the window has ended', async () => {
    const { cache, clock } = setup()
    await cache.getOrSet('k', () => 'good', policy)
    clock.advance(5000) // exactly freshUntil + staleIfError
    const boom = new Error('origin down')
    await expect(cache.getOrSet('k', () => Promise.reject(boom), policy)).rejects.toBe(boom)
  })

  it('lets the error reach the caller when there never was a value', async () => {
    const { cache } = setup()
    const boom = new TypeError('bad response')
    await expect(cache.getOrSet('k', () => { throw boom }, policy)).rejects.toBe(boom)
  })

  it('answers stale after the soft timeout and lets the slow load fill the tiers', async () => {
    vi.useFakeTimers()
    const { cache, clock, l1 } = setup()
    const p = { ttl: 1000, staleIfError: 60_000, timeout: 200 }
    await cache.getOrSet('k', () => 'old', p)
    clock.advance(2000)
    const gate = deferred<string>()
    const answer = cache.getOrSet('k', () => gate.promise, p)
    await vi.advanceTimersByTimeAsync(199)
    let settled = false
    void answer.then(() => (settled = true))
    await flush()
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(await answer).toBe('old')
    gate.resolve('new')
    await cache.idle()
    expect(l1.peek(':k')?.value).toBe('new')
  })

  it('aborts the loader at hardTimeout and fails with LOADER_TIMEOUT when nothing stale can answer', async () => {
    vi.useFakeTimers()
    const { cache, events } = setup()
    let signalled = false
    const answer = cache.getOrSet('k', (ctx) => {
      ctx.signal.addEventListener('abort', () => (signalled = true))
      return new Promise<string>(() => {})
    }, { ttl: 1000, hardTimeout: 300 })
    const check = expect(answer).rejects.toMatchObject({ code: 'LOADER_TIMEOUT' })
    await vi.advanceTimersByTimeAsync(300)
    await check
    expect(signalled).toBe(true)
    expect(events.some((e) => e.type === 'error' && e.error?.code === 'LOADER_TIMEOUT')).toBe(true)
  })
})

describe('negative caching', () => {
  it('caches null and undefined as "not found" for negativeTtl only', async () => {
    const { cache, clock } = setup({ policy: { ttl: '1h', negativeTtl: '30s' } })
    const loader = vi.fn((): string | undefined => undefined)
    expect(await cache.getOrSet('missing', loader)).toBeNull()
    clock.advance(29_999)
    expect(await cache.getOrSet('missing', loader)).toBeNull()
    expect(loader).toHaveBeenCalledTimes(1)
    expect(await cache.get('missing')).toBeNull()
    clock.advance(1)
    expect(await cache.get('missing')).toBeUndefined()
    loader.mockReturnValueOnce('appeared')
    expect(await cache.getOrSet('missing', loader)).toBe('appeared')
  })

  it('stores negative entries as marked, not as a value of null', async () => {
    const { cache, l2 } = setup()
    await cache.getOrSet('gone', () => null)
    await cache.idle()
    expect(l2.map.get(':gone')).toMatchObject({ value: null, negative: true })
  })
})

describe('tiers', () => {
  it('fills L1 from an L2 hit with the remaining lifetime, really writing it', async () => {
    const { cache, clock, l1, l2, events } = setup()
    const t = clock.now()
    l2.map.set(':k', { value: 'from-l2', createdAt: t - 10_000, freshUntil: t + 50_000, staleUntil: t + 50_000 })
    const loader = vi.fn(() => 'loaded')
    expect(await cache.getOrSet('k', loader)).toBe('from-l2')
    await cache.idle()
    expect(loader).not.toHaveBeenCalled()
    expect(l1.peek(':k')).toMatchObject({ value: 'from-l2', createdAt: t - 10_000, freshUntil: t + 50_000 })
    expect(events.map((e) => `${e.type}:${e.tier ?? ''}`)).toEqual(['miss:l1', 'hit:l2', 'fill:l1'])
    expect(cache.stats().tiers.map((s) => [s.name, s.hits, s.misses, s.fills])).toEqual([
      ['l1', 0, 1, 1],
      ['l2', 1, 0, 0],
    ])
  })

  it('caps what it writes into a store by that store maxTtl', async () => {
    const clock = manualClock()
    const l1 = memoryStore({ maxTtl: '10s' })
    const l2 = new ScriptedStore('l2')
    const cache = createCache({ tiers: [l1, l2], now: clock.now, policy: { ttl: '1h' } })
    await cache.getOrSet('k', () => 'v')
    await cache.idle()
    expect(l1.peek(':k')?.freshUntil).toBe(clock.now() + 10_000)
    expect(l2.map.get(':k')?.freshUntil).toBe(clock.now() + 3_600_000)
    clock.advance(10_000)
    const loader = vi.fn(() => 'reloaded')
    expect(await cache.getOrSet('k', loader)).toBe('v')
    expect(loader).not.toHaveBeenCalled()
  })

  it('fills every tier above the one that answered, through waitUntil', async () => {
    const clock = manualClock()
    const [a, b, c] = [new ScriptedStore('a'), new ScriptedStore('b'), new ScriptedStore('c')]
    const handed: Promise<unknown>[] = []
    const cache = createCache({ tiers: [a, b, c], now: clock.now, policy: { ttl: '1m' }, waitUntil: (p) => handed.push(p) })
    c.map.set(':k', { value: 'deep', createdAt: clock.now(), freshUntil: clock.now() + 1000, staleUntil: clock.now() + 1000 })
    expect(await cache.get('k')).toBe('deep')
    expect(handed.length).toBeGreaterThanOrEqual(2)
    await Promise.all(handed)
    expect(a.map.get(':k')?.value).toBe('deep')
    expect(b.map.get(':k')?.value).toBe('deep')
  })

  it('treats a throwing tier as a miss and reports it, while the loader answers', async () => {
    const { cache, l2, events } = setup()
    l2.behaviour.get = 'throw'
    l2.behaviour.set = 'reject'
    expect(await cache.getOrSet('k', () => 'origin')).toBe('origin')
    await cache.idle()
    const errors = events.filter((e) => e.type === 'error').map((e) => [e.error?.code, e.tier])
    expect(errors).toEqual([
      ['TIER_ERROR', 'l2'],
      ['TIER_ERROR', 'l2'],
    ])
    expect(cache.stats().tiers[1]?.errors).toBe(2)
  })

  it('times out a hanging tier and answers from the loader', async () => {
    vi.useFakeTimers()
    const { cache, l2, events } = setup({ tierTimeout: 50 })
    l2.behaviour.get = 'hang'
    const answer = cache.getOrSet('k', () => 'origin')
    await vi.advanceTimersByTimeAsync(50)
    expect(await answer).toBe('origin')
    expect(events.find((e) => e.type === 'error')?.error).toMatchObject({ code: 'TIER_TIMEOUT', tier: 'l2', key: 'k' })
  })

  it('answers from L2 when L1 throws', async () => {
    const clock = manualClock()
    const l1 = new ScriptedStore('l1')
    const l2 = new ScriptedStore('l2')
    l1.behaviour.get = 'throw'
    const cache = createCache({ tiers: [l1, l2], now: clock.now, policy: { ttl: '1m' } })
    l2.map.set(':k', { value: 'l2', createdAt: clock.now(), freshUntil: clock.now() + 1000, staleUntil: clock.now() + 1000 })
    const loader = vi.fn(() => 'origin')
    expect(await cache.getOrSet('k', loader)).toBe('l2')
    expect(loader).not.toHaveBeenCalled()
  })

  it('treats an entry that does not decode as a miss and deletes it', async () => {
    const { cache, l2, events } = setup()
    l2.behaviour.get = 'garbage'
    expect(await cache.getOrSet('k', () => 'origin')).toBe('origin')
    await cache.idle()
    expect(l2.calls.delete).toBe(1)
    expect(events.find((e) => e.type === 'error')?.error?.code).toBe('DECODE_ERROR')
  })

  it('leaves dead entries where it finds them (their store drops them; a delete could remove a newer write), and a load overwrites them', async () => {
    const { cache, clock, l2 } = setup()
    l2.map.set(':k', { value: 'old', createdAt: 0, freshUntil: 1, staleUntil: 1 })
    clock.advance(1)
    expect(await cache.get('k')).toBeUndefined()
    await cache.idle()
    expect(l2.calls.delete).toBe(0)
    expect(await cache.getOrSet('k', () => 'new')).toBe('new')
    await cache.idle()
    expect(l2.map.get(':k')?.value).toBe('new')
  })

  it('writes through to every tier on set, and deletes from every tier', async () => {
    const { cache, l1, l2 } = setup()
    await cache.set('k', { a: 1 }, { ttl: '5m', tags: ['x'] })
    expect(l1.peek(':k')).toMatchObject({ value: { a: 1 }, tags: [':x'] })
    expect(l2.map.get(':k')?.value).toEqual({ a: 1 })
    await cache.delete('k')
    expect(l1.peek(':k')).toBeUndefined()
    expect(l2.map.has(':k')).toBe(false)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('does not write back a load that was in flight when the key was deleted', async () => {
    const { cache, l1, l2 } = setup()
    const gate = deferred<string>()
    const answer = cache.getOrSet('k', () => gate.promise)
    await flush()
    await cache.delete('k')
    gate.resolve('pre-delete data')
    expect(await answer).toBe('pre-delete data')
    await cache.idle()
    expect(l1.peek(':k')).toBeUndefined()
    expect(l2.map.has(':k')).toBe(false)
  })

  it('set resolves even when a tier fails, reporting it', async () => {
    const { cache, l2, events } = setup()
    l2.behaviour.set = 'throw'
    await expect(cache.set('k', 1)).resolves.toBeUndefined()
    expect(events.some((e) => e.type === 'error' && e.tier === 'l2')).toBe(true)
  })
})

describe('tags', () => {
  it('invalidates tagged entries in every tier without scanning them', async () => {
    const { cache, clock, l1, l2 } = setup()
    await cache.getOrSet('p1', () => 'one', { ttl: '1h', tags: ['product:1', 'catalog'] })
    await cache.getOrSet('p2', () => 'two', { ttl: '1h', tags: ['product:2', 'catalog'] })
    await cache.idle()
    const l2Reads = l2.calls.get
    clock.advance(1)
    await cache.invalidateTags(['product:1'])
    clock.advance(1)
    const loader = vi.fn(() => 'one v2')
    expect(await cache.getOrSet('p1', loader, { ttl: '1h', tags: ['product:1'] })).toBe('one v2')
    expect(await cache.getOrSet('p2', () => 'x', { ttl: '1h', tags: ['product:2'] })).toBe('two')
    expect(loader).toHaveBeenCalledTimes(1)
    // The dead L2 copy was not served either: L1 and L2 were both read, and the loader ran.
    expect(l2.calls.get).toBe(l2Reads + 1)
    await cache.idle()
    expect(l1.peek(':p1')?.value).toBe('one v2')
    expect(l2.map.get(':p1')?.value).toBe('one v2')
  })

  it('detaches in-flight loads carrying the tag, and only those', async () => {
    const { cache, clock } = setup()
    const tagged = deferred<string>()
    const other = deferred<string>()
    const first = cache.getOrSet('p1', () => tagged.promise, { ttl: '1h', tags: ['product:1'] })
    const unrelated = cache.getOrSet('p2', () => other.promise, { ttl: '1h', tags: ['product:2'] })
    await flush()
    clock.advance(1)
    await cache.invalidateTags(['product:1'])
    clock.advance(1)
    // A caller arriving after the invalidation starts its own load instead of joining the old one.
    const after = cache.getOrSet('p1', () => 'after', { ttl: '1h', tags: ['product:1'] })
    const joiner = vi.fn(() => 'never')
    const p2Again = cache.getOrSet('p2', joiner, { ttl: '1h', tags: ['product:2'] })
    tagged.resolve('before')
    other.resolve('two')
    expect(await first).toBe('before')
    expect(await after).toBe('after')
    expect(await unrelated).toBe('two')
    expect(await p2Again).toBe('two')
    expect(joiner).not.toHaveBeenCalled()
    await cache.idle()
    expect(await cache.get('p1')).toBe('after')
    expect(await cache.get('p2')).toBe('two')
  })

  it('reaches entries that only a lower tier holds', async () => {
    const { cache, clock, l2 } = setup()
    l2.map.set(':k', { value: 'tagged', createdAt: clock.now(), freshUntil: clock.now() + 60_000, staleUntil: clock.now() + 60_000, tags: [':t'] })
    clock.advance(1)
    await cache.invalidateTags(['t'])
    clock.advance(1)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('shares invalidations between caches through one coordinator', async () => {
    const clock = manualClock()
    const coordinator = memoryCoordinator({ now: clock.now })
    const shared = new ScriptedStore('shared')
    const a = createCache({ tiers: [memoryStore(), shared], coordinator, now: clock.now, policy: { ttl: '1h' } })
    const b = createCache({ tiers: [memoryStore(), shared], coordinator, now: clock.now, policy: { ttl: '1h' } })
    await b.getOrSet('k', () => 'v1', { ttl: '1h', tags: ['t'] })
    clock.advance(1)
    await a.invalidateTags(['t'])
    clock.advance(1)
    // b still holds the entry in its own L1, and must not serve it.
    expect(await b.getOrSet('k', () => 'v2', { ttl: '1h', tags: ['t'] })).toBe('v2')
  })

  it('keeps namespaces apart: keys and tags', async () => {
    const clock = manualClock()
    const shared = new ScriptedStore('shared')
    const coordinator = memoryCoordinator()
    const v1 = createCache({ tiers: [shared], namespace: 'v1', coordinator, now: clock.now, policy: { ttl: '1h', tags: ['all'] } })
    const v2 = createCache({ tiers: [shared], namespace: 'v2', coordinator, now: clock.now, policy: { ttl: '1h', tags: ['all'] } })
    await v1.set('k', 'one')
    await v2.set('k', 'two')
    expect([...shared.map.keys()].sort()).toEqual(['v1:k', 'v2:k'])
    expect(shared.map.get('v1:k')?.tags).toEqual(['v1:all'])
    clock.advance(1)
    await v1.invalidateTags(['all'])
    expect(await v1.get('k')).toBeUndefined()
    expect(await v2.get('k')).toBe('two')
  })

  it('serves what the tiers hold when the coordinator fails, reporting it', async () => {
    const failing: Coordinator = {
      name: 'broken',
      stamp: () => 0,
      tagStamp: () => Promise.reject(new Error('redis down')),
      invalidateTags: () => Promise.resolve(1),
    }
    const { cache, events } = setup({ coordinator: failing })
    await cache.set('k', 'v', { ttl: '1m', tags: ['t'] })
    expect(await cache.getOrSet('k', () => 'origin')).toBe('v')
    expect(events.find((e) => e.type === 'error')?.error?.code).toBe('COORDINATOR_ERROR')
  })
})

describe('early refresh (XFetch)', () => {
  async function refreshRate(at: number): Promise<number> {
    // A deterministic uniform sequence drives the draws.
    let seed = 42
    const random = (): number => {
      seed = (seed * 16807) % 2147483647
      return seed / 2147483647
    }
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], now: clock.now, random, policy: { ttl: 10_000, earlyRefresh: 1 } })
    const trials = 400
    let refreshes = 0
    for (let i = 0; i < trials; i++) {
      const start = clock.now()
      // The loader takes 1 s, so XFetch starts refreshing in the last seconds of the 10 s lifetime.
      await cache.getOrSet(`k${i}`, () => {
        clock.advance(1000)
        return i
      })
      clock.set(start + at)
      const before = cache.stats().refreshes
      await cache.getOrSet(`k${i}`, () => i)
      refreshes += cache.stats().refreshes - before
      await cache.idle()
      clock.set(start + 20_000)
    }
    return refreshes / trials
  }

  it('refreshes more often the closer expiry is, and never long before it', async () => {
    const early = await refreshRate(2_000)
    const middle = await refreshRate(8_000)
    const late = await refreshRate(9_500)
    const last = await refreshRate(9_990)
    // XFetch's tail is exponential: 8 load-durations before expiry the odds are e^-8 (about 0.03%).
    expect(early).toBeLessThan(0.01)
    expect(middle).toBeLessThan(late)
    expect(late).toBeLessThan(last)
    expect(last).toBeGreaterThan(0.9)
  })

  it('is off by default', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], now: clock.now, random: () => 1e-12, policy: { ttl: 10_000 } })
    await cache.getOrSet('k', () => {
      clock.advance(1000)
      return 1
    })
    clock.advance(8_999)
    await cache.getOrSet('k', () => 2)
    expect(cache.stats().refreshes).toBe(0)
  })
})

describe('getManyOrSet', () => {
  it('reads each tier once for all keys and calls the loader once for every miss', async () => {
    const { cache, clock, l2 } = setup()
    await cache.set('a', 'A')
    l2.map.set(':b', { value: 'B', createdAt: clock.now(), freshUntil: clock.now() + 1000, staleUntil: clock.now() + 1000 })
    const getManyBefore = l2.calls.getMany
    const loadMany = vi.fn((keys: string[], _ctx?: unknown) => keys.map((k) => (k === "nope" ? null : k.toUpperCase())))
    const values = await cache.getManyOrSet(['a', 'b', 'c', 'd', 'nope', 'c'], loadMany)
    expect(values).toEqual(['A', 'B', 'C', 'D', null, 'C'])
    expect(loadMany).toHaveBeenCalledTimes(1)
    expect(loadMany.mock.calls[0]?.[0]).toEqual(['c', 'd', 'nope'])
    expect(l2.calls.getMany - getManyBefore).toBe(1)
    await cache.idle()
    expect(l2.map.get(':c')?.value).toBe('C')
    expect(l2.map.get(':nope')?.negative).toBe(true)
    const again = vi.fn((keys: string[]) => keys)
    expect(await cache.getManyOrSet(['a', 'b', 'c', 'd', 'nope'], again)).toEqual(['A', 'B', 'C', 'D', null])
    expect(again).not.toHaveBeenCalled()
  })

  it('joins single-key loads in flight and lets single-key callers join its batch', async () => {
    const { cache } = setup()
    const single = deferred<string>()
    const singleLoader = vi.fn(() => single.promise)
    const first = cache.getOrSet('x', singleLoader)
    await flush()
    const batchGate = deferred<string[]>()
    const loadMany = vi.fn((_keys: string[]) => batchGate.promise)
    const many = cache.getManyOrSet(['x', 'y'], loadMany)
    await flush(20)
    const joiner = vi.fn(() => 'never')
    const second = cache.getOrSet('y', joiner)
    await flush()
    single.resolve('X')
    batchGate.resolve(['Y'])
    expect(await many).toEqual(['X', 'Y'])
    expect(await first).toBe('X')
    expect(await second).toBe('Y')
    expect(loadMany.mock.calls[0]?.[0]).toEqual(['y'])
    expect(joiner).not.toHaveBeenCalled()
  })

  it('serves stale within swr and refreshes those keys in one background batch', async () => {
    const { cache, clock } = setup()
    const policy = { ttl: 1000, swr: 10_000 }
    await cache.getManyOrSet(['a', 'b'], (keys) => keys.map((k) => `${k}1`), policy)
    clock.advance(2000)
    const loadMany = vi.fn((keys: string[]) => keys.map((k) => `${k}2`))
    expect(await cache.getManyOrSet(['a', 'b'], loadMany, policy)).toEqual(['a1', 'b1'])
    await cache.idle()
    expect(loadMany).toHaveBeenCalledTimes(1)
    expect(await cache.getManyOrSet(['a', 'b'], loadMany, policy)).toEqual(['a2', 'b2'])
  })

  it('uses stale-if-error per key and rejects when a key has nothing to fall back on', async () => {
    const { cache, clock } = setup()
    const policy = { ttl: 1000, staleIfError: 10_000 }
    await cache.set('a', 'old-a', policy)
    clock.advance(2000)
    const boom = new Error('batch failed')
    expect(await cache.getManyOrSet(['a'], () => Promise.reject(boom), policy)).toEqual(['old-a'])
    await expect(cache.getManyOrSet(['a', 'b'], () => Promise.reject(boom), policy)).rejects.toBe(boom)
  })

  it('answers per key with options.errors: a key with nothing to answer is undefined and its error is reported', async () => {
    const { cache, clock } = setup()
    const policy = { ttl: 1000, staleIfError: 10_000 }
    await cache.set('stale', 'old', policy)
    clock.advance(2000)
    await cache.set('fresh', 'F', policy)
    const boom = new Error('origin down')
    const errors: unknown[] = ['left over']
    const loadMany = vi.fn((_keys: string[]) => Promise.reject(boom))
    const values = await cache.getManyOrSet(['fresh', 'stale', 'gone', 'gone'], loadMany, policy, { errors })
    expect(values).toEqual(['F', 'old', undefined, undefined])
    expect(loadMany.mock.calls[0]?.[0]).toEqual(['stale', 'gone'])
    expect(errors).toEqual([undefined, undefined, boom, boom])
    // A loader's own "not found" is still null, and a call where every key answered leaves no error.
    expect(await cache.getManyOrSet(['fresh', 'nope'], (keys) => keys.map(() => null), policy, { errors })).toEqual(['F', null])
    expect(errors).toEqual([])
    expect(() => cache.getManyOrSet(['x'], () => [], policy, { errors: 'no' as never })).toThrow(/options\.errors must be an array/)
  })

  it('takes a policy per key, so that each entry carries only its own tags', async () => {
    const { cache, clock } = setup()
    const perKey = (key: string) => ({ ttl: '1h' as const, tags: [key] })
    const loadMany = vi.fn((keys: string[]) => keys.map((k) => `${k}@1`))
    expect(await cache.getManyOrSet(['p1', 'p2'], loadMany, perKey)).toEqual(['p1@1', 'p2@1'])
    await cache.idle()
    clock.advance(1)
    await cache.invalidateTags(['p1'])
    clock.advance(1)
    const again = vi.fn((keys: string[]) => keys.map((k) => `${k}@2`))
    expect(await cache.getManyOrSet(['p1', 'p2'], again, perKey)).toEqual(['p1@2', 'p2@1'])
    expect(again.mock.calls[0]?.[0]).toEqual(['p1'])
  })

  it('names the key whose policy is wrong', async () => {
    const { cache } = setup()
    await expect(cache.getManyOrSet(['ok', 'bad'], () => [], (key) => (key === 'bad' ? { ttl: -1 } : undefined))).rejects.toThrow(
      /policy\("bad"\)\.ttl must not be negative/,
    )
  })

  it('does not copy stale entries up from a lower tier', async () => {
    const clock = manualClock()
    const l1 = new ScriptedStore('l1')
    const l2 = new ScriptedStore('l2')
    const cache = createCache({ tiers: [l1, l2], now: clock.now, policy: { ttl: 1000, swr: 5000 } })
    const t = clock.now()
    for (const k of ['a', 'b']) l2.map.set(`:${k}`, { value: `${k}-stale`, createdAt: t - 2000, freshUntil: t - 1000, staleUntil: t + 4000 })
    const written: unknown[] = []
    l1.setMany = async (items) => {
      for (const [key, entry] of items) {
        written.push(entry.value)
        l1.map.set(key, entry)
      }
    }
    expect(await cache.getManyOrSet(['a', 'b'], (keys) => keys.map((k) => `${k}-fresh`))).toEqual(['a-stale', 'b-stale'])
    await cache.idle()
    expect(written).toEqual(['a-fresh', 'b-fresh'])
  })

  it('rejects a loader result that is not aligned with its keys', async () => {
    const { cache } = setup()
    await expect(cache.getManyOrSet(['a', 'b'], () => ['only one'])).rejects.toThrow(/loadMany must resolve to an array aligned with its 2 keys, got 1 values/)
  })

  it('validates every key', async () => {
    const { cache } = setup()
    await expect(cache.getManyOrSet(['ok', ''], () => [])).rejects.toThrow(/keys\[1\] must be 1 to/)
    await expect(cache.getManyOrSet('ab' as never, () => [])).rejects.toThrow(/keys must be an array of strings/)
  })
})

describe('coordinator locks across processes', () => {
  it('loads a missing key about once across five isolates sharing L2', async () => {
    vi.useFakeTimers()
    const coordinator = memoryCoordinator()
    const shared = new ScriptedStore('redis')
    let originCalls = 0
    const loader = async (): Promise<string> => {
      originCalls++
      await new Promise((resolve) => setTimeout(resolve, 150))
      return 'product'
    }
    const isolates = Array.from({ length: 5 }, () =>
      createCache({ tiers: [memoryStore(), shared], coordinator, policy: { ttl: '1m' }, lockWait: '2s' }),
    )
    const answers = Promise.all(isolates.flatMap((c) => [c.getOrSet('p:1', loader), c.getOrSet('p:1', loader)]))
    await vi.advanceTimersByTimeAsync(1000)
    expect(await answers).toEqual(Array(10).fill('product'))
    expect(originCalls).toBe(1)
    expect(isolates.reduce((n, c) => n + c.stats().lockWaits, 0)).toBe(4)
  })

  it('loads anyway when the lock holder never fills the shared tier within lockWait', async () => {
    vi.useFakeTimers()
    const coordinator = memoryCoordinator()
    const held = await coordinator.lock?.('k', 60_000)
    expect(held).toBeDefined()
    const cache = createCache({ tiers: [memoryStore(), new ScriptedStore('redis')], coordinator, policy: { ttl: '1m' }, lockWait: 500 })
    const answer = cache.getOrSet('k', () => 'mine')
    await vi.advanceTimersByTimeAsync(500)
    expect(await answer).toBe('mine')
  })

  it('loads when taking the lock fails, reporting the coordinator error', async () => {
    const events: CacheEvent[] = []
    const broken: Coordinator = {
      name: 'broken',
      stamp: () => 0,
      tagStamp: () => 0,
      invalidateTags: async () => 1,
      lock: () => Promise.reject(new Error('redis down')),
    }
    const cache = createCache({ tiers: [memoryStore(), new ScriptedStore('redis')], coordinator: broken, policy: { ttl: '1m' }, onEvent: (e) => events.push(e) })
    expect(await cache.getOrSet('k', () => 'v')).toBe('v')
    expect(events.some((e) => e.error?.code === 'COORDINATOR_ERROR')).toBe(true)
  })
})

describe('withContext', () => {
  it('shares in-flight loads and stats, and hands background work to its own waitUntil', async () => {
    const { cache, clock } = setup()
    const handedA: Promise<unknown>[] = []
    const handedB: Promise<unknown>[] = []
    const a = cache.withContext({ waitUntil: (p) => handedA.push(p) })
    const b = cache.withContext({ waitUntil: (p) => handedB.push(p) })
    const gate = deferred<string>()
    const loader = vi.fn(() => gate.promise)
    const both = Promise.all([a.getOrSet('k', loader, { ttl: 1000, swr: 5000 }), b.getOrSet('k', loader, { ttl: 1000, swr: 5000 })])
    gate.resolve('v')
    expect(await both).toEqual(['v', 'v'])
    expect(loader).toHaveBeenCalledTimes(1)
    expect(handedA.length).toBeGreaterThan(0) // the write-back of a's load
    clock.advance(2000)
    const before = handedB.length
    expect(await b.getOrSet('k', () => 'v2', { ttl: 1000, swr: 5000 })).toBe('v')
    expect(handedB.length).toBeGreaterThan(before) // the refresh went to b's request
    await Promise.all(handedB)
    expect(await a.get('k')).toBe('v2')
    expect(a.stats()).toEqual(cache.stats())
  })

  it('validates its argument', () => {
    const { cache } = setup()
    expect(() => cache.withContext(null as never)).toThrow(/withContext\(context\) must be an object/)
    expect(() => cache.withContext({ waitUntil: 1 as never })).toThrow(/context\.waitUntil must be a function/)
  })
})

describe('get', () => {
  it('answers undefined for a miss, null for a cached not-found, the value within swr, and never loads', async () => {
    const { cache, clock } = setup()
    expect(await cache.get('nothing')).toBeUndefined()
    await cache.set('gone', null)
    expect(await cache.get('gone')).toBeNull()
    await cache.set('k', 'v', { ttl: 1000, swr: 1000 })
    clock.advance(1500)
    expect(await cache.get('k')).toBe('v')
    clock.advance(500)
    expect(await cache.get('k')).toBeUndefined()
  })
})

describe('events and stats', () => {
  it('counts per tier and overall, with hit rates', async () => {
    const { cache } = setup()
    await cache.getOrSet('a', () => 1)
    await cache.getOrSet('a', () => 1)
    await cache.getOrSet('a', () => 1)
    await cache.getOrSet('b', () => 2)
    const stats = cache.stats()
    expect(stats).toMatchObject({ hits: 2, misses: 2, loads: 2, hitRate: 0.5 })
    expect(stats.tiers[0]).toMatchObject({ name: 'l1', hits: 2, misses: 2, hitRate: 0.5 })
    expect(stats.tiers[1]).toMatchObject({ name: 'l2', hits: 0, misses: 2, hitRate: 0 })
  })

  it('reports evictions of a store with the key as the caller knows it', async () => {
    const events: CacheEvent[] = []
    const cache = createCache({ tiers: [memoryStore({ maxEntries: 1 })], namespace: 'ns', policy: { ttl: '1m' }, onEvent: (e) => events.push(e) })
    await cache.set('a', 1)
    await cache.set('b', 2)
    expect(events.filter((e) => e.type === 'evict')).toMatchObject([{ key: 'a', tier: 'memory', reason: 'capacity' }])
    expect(cache.stats().tiers[0]?.evictions).toBe(1)
  })

  it('reports writes with their entry, deletes and invalidations to subscribers added at run time', async () => {
    const { cache } = setup()
    const seen: CacheEvent[] = []
    const off = cache.subscribe((e) => {
      if (e.type === 'write' || e.type === 'delete' || e.type === 'invalidate') seen.push(e)
    })
    await cache.getOrSet('a', () => 'loaded', { ttl: '1m', tags: ['t'] })
    await cache.set('b', 'set')
    await cache.getManyOrSet(['c'], () => ['batched'])
    await cache.delete('a')
    await cache.invalidateTags(['t'])
    off()
    await cache.delete('b')
    expect(seen.map((e) => [e.type, e.key, e.source ?? e.tags ?? null, e.entry?.value ?? null])).toEqual([
      ['write', 'a', 'load', 'loaded'],
      ['write', 'b', 'set', 'set'],
      ['write', 'c', 'load', 'batched'],
      ['delete', 'a', null, null],
      ['invalidate', '', ['t'], null],
    ])
    expect(seen[0]?.entry?.tags).toEqual([':t'])
    expect(() => cache.subscribe('x' as never)).toThrow(/listener must be a function/)
  })

  it('carries the entry and the tier on hit and stale events, stale-on-error included', async () => {
    const { cache, clock, l2, events } = setup()
    await cache.getOrSet('a', () => 'A', { ttl: 1000, staleIfError: 60_000 })
    await cache.getOrSet('a', () => 'A')
    const hit = events.find((e) => e.type === 'hit')
    expect(hit).toMatchObject({ tier: 'l1', tierIndex: 0, entry: { value: 'A' } })
    await cache.idle()
    // Only L2 holds it now, past ttl: a failing load falls back to it.
    await cache.tiers[0]?.delete(':a')
    clock.advance(2000)
    await expect(cache.getOrSet('a', () => Promise.reject(new Error('down')))).resolves.toBe('A')
    expect(events.at(-1)).toMatchObject({ type: 'stale', reason: 'error', tier: 'l2', tierIndex: 1, entry: { value: 'A' } })
    expect(cache.stats().tiers[1]?.staleHits).toBe(1)
    expect(l2.map.has(':a')).toBe(true)
  })

  it('counts get() reads as hits and misses, with events', async () => {
    const { cache, events } = setup()
    await cache.set('k', 'v')
    expect(await cache.get('k')).toBe('v')
    expect(await cache.get('nothing')).toBeUndefined()
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 })
    expect(events.filter((e) => e.type === 'hit')).toMatchObject([{ key: 'k', tier: 'l1', entry: { value: 'v' } }])
  })

  it('ignores a listener that throws', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' }, onEvent: () => { throw new Error('listener bug') } })
    expect(await cache.getOrSet('k', () => 'v')).toBe('v')
    expect(await cache.getOrSet('k', () => 'v')).toBe('v')
  })

  it('times loads with the injected clock', async () => {
    const { cache, clock, events } = setup()
    await cache.getOrSet('k', () => {
      clock.advance(120)
      return 'v'
    })
    expect(events.find((e) => e.type === 'load')).toMatchObject({ ms: 120, background: false, negative: false })
  })
})

describe('validation at the call site', () => {
  it('rejects bad keys', () => {
    const { cache } = setup()
    expect(() => cache.getOrSet('', () => 1)).toThrow(new RangeError('key must be 1 to 1023 characters, got 0'))
    expect(() => cache.getOrSet(7 as never, () => 1)).toThrow(new TypeError('key must be a string, got number'))
    expect(() => cache.getOrSet('k'.repeat(1024), () => 1)).toThrow(/key must be 1 to 1023 characters, got 1024/)
    expect(() => cache.getOrSet('k', 'loader' as never)).toThrow(/loader must be a function, got string/)
  })

  it('rejects an unknown createCache option, naming it (a misspelt option must not silently do nothing)', () => {
    expect(() => createCache({ tiers: [memoryStore()], tierTimout: '1s' } as never)).toThrow(
      new TypeError(
        'options.tierTimout is not a createCache option (known: tiers, namespace, policy, waitUntil, coordinator, now, onEvent, tierTimeout, lockTtl, lockWait, maxKeyLength, random, codec, strategies)',
      ),
    )
    expect(() => createCache({ tiers: [memoryStore()], ttl: '1m' } as never)).toThrow(/options\.ttl is not a createCache option/)
  })

  it('counts the namespace in the key length', async () => {
    const cache = createCache({ tiers: [memoryStore()], namespace: 'v2', policy: { ttl: 1 } })
    expect(() => cache.getOrSet('k'.repeat(1022), () => 1)).toThrow(/key must be 1 to 1021 characters, got 1022/)
  })

  it('rejects bad policies on every call that takes one', async () => {
    const { cache } = setup()
    expect(() => cache.getOrSet('k', () => 1, { ttl: -1 })).toThrow(/policy\.ttl must not be negative/)
    expect(() => cache.getOrSet('k', () => 1, { ttl: '5 mins' as never })).toThrow(/policy\.ttl must be a duration/)
    await expect(cache.set('k', 1, { ttl: '1m', jitter: 2 })).rejects.toThrow(/policy\.jitter must be a number from 0 to 1/)
    expect(() => cache.cacheControl({ ttl: '1m', timeout: '1s' })).toThrow(/policy\.timeout answers with a stale value/)
  })

  it('requires a policy when the cache has no default', async () => {
    const cache = createCache({ tiers: [memoryStore()] })
    expect(() => cache.getOrSet('k', () => 1)).toThrow(/policy\.ttl is required/)
    await expect(cache.set('k', 1)).rejects.toThrow(TypeError)
  })

  it('rejects values that cannot be serialized, from set and from loaders', async () => {
    const { cache } = setup()
    await expect(cache.set('k', { at: new Date() })).rejects.toThrow(/value\.at cannot be cached: Date does not survive serialization/)
    await expect(cache.getOrSet('k', () => ({ fn: () => 1 }))).rejects.toThrow(/the loaded value\.fn cannot be cached/)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('rejects bad options at createCache', () => {
    expect(() => createCache({} as never)).toThrow(/options\.tiers must be a non-empty array of stores/)
    expect(() => createCache({ tiers: [] })).toThrow(TypeError)
    expect(() => createCache({ tiers: [{ name: 'x' } as never] })).toThrow(/options\.tiers\[0\] must be a store with get, set and delete/)
    expect(() => createCache({ tiers: [memoryStore()], policy: { ttl: 'forever' as never } })).toThrow(/options\.policy\.ttl must be a duration/)
    expect(() => createCache({ tiers: [memoryStore()], tierTimeout: -5 })).toThrow(/options\.tierTimeout must not be negative/)
    expect(() => createCache({ tiers: [memoryStore()], now: 5 as never })).toThrow(/options\.now must be a function/)
    expect(() => createCache({ tiers: [memoryStore()], namespace: 5 as never })).toThrow(/options\.namespace must be a string/)
  })

  it('rejects bad tags for invalidation', async () => {
    const { cache } = setup()
    await expect(cache.invalidateTags('t' as never)).rejects.toThrow(/tags must be an array of strings/)
    await expect(cache.invalidateTags([''])).rejects.toThrow(/tags\[0\] must be 1 to 256 characters/)
  })
})

describe('cacheControl on the cache', () => {
  it('uses the default policy, or the one given', () => {
    const { cache } = setup({ policy: { ttl: '5m', swr: '1m' } })
    expect(cache.cacheControl()).toBe('public, max-age=300, stale-while-revalidate=60')
    expect(cache.cacheControl({ ttl: '10s' }, { scope: 'private' })).toBe('private, max-age=10, stale-while-revalidate=60')
  })
})

describe('the memory L1 fast path', () => {
  it('answers from the same entry the slow path would, and respects tags on the way', async () => {
    const clock = manualClock()
    const l1: MemoryStore = memoryStore()
    const cache = createCache({ tiers: [l1], now: clock.now, policy: { ttl: 1000, tags: ['t'] } })
    await cache.getOrSet('k', () => 'v1')
    expect(await cache.getOrSet('k', () => 'v2')).toBe('v1')
    clock.advance(1)
    await cache.invalidateTags(['t'])
    clock.advance(1)
    expect(await cache.getOrSet('k', () => 'v2')).toBe('v2')
  })

  it('does not count a dead L1 entry as a hit', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], now: clock.now, policy: { ttl: 1000 } })
    await cache.getOrSet('k', () => 'v1')
    clock.advance(1000)
    expect(await cache.getOrSet('k', () => 'v2')).toBe('v2')
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 2 })
  })
})

describe('a single memory tier (the direct load path)', () => {
  function single() {
    const clock = manualClock()
    const events: CacheEvent[] = []
    const cache = createCache({ tiers: [memoryStore()], now: clock.now, policy: { ttl: '1m' }, onEvent: (e) => events.push(e) })
    return { cache, clock, events }
  }

  it('runs an async loader once for 1,000 concurrent callers', async () => {
    const { cache } = single()
    const gate = deferred<string>()
    const loader = vi.fn(() => gate.promise)
    const calls = Array.from({ length: 1000 }, () => cache.getOrSet('hot', loader))
    gate.resolve('v')
    expect(new Set(await Promise.all(calls))).toEqual(new Set(['v']))
    expect(loader).toHaveBeenCalledTimes(1)
    expect(cache.stats()).toMatchObject({ misses: 1, coalesced: 999, loads: 1 })
  })

  it('stores what a synchronous loader returns before the call resolves', async () => {
    const { cache } = single()
    const answer = cache.getOrSet('k', () => 'now')
    expect(await cache.get('k')).toBe('now')
    expect(await answer).toBe('now')
  })

  it('rejects with a synchronous loader error, records it, and caches nothing', async () => {
    const { cache, events } = single()
    const boom = new Error('sync failure')
    await expect(cache.getOrSet('k', () => { throw boom })).rejects.toBe(boom)
    expect(cache.stats().loadErrors).toBe(1)
    expect(events.some((e) => e.type === 'error' && e.error?.code === 'LOADER_ERROR')).toBe(true)
    expect(await cache.getOrSet('k', () => 'recovered')).toBe('recovered')
  })

  it('caches a synchronous "not found" for negativeTtl', async () => {
    const { cache, clock } = single()
    const loader = vi.fn(() => null)
    expect(await cache.getOrSet('gone', loader, { ttl: '1m', negativeTtl: '10s' })).toBeNull()
    clock.advance(9_999)
    expect(await cache.getOrSet('gone', loader, { ttl: '1m', negativeTtl: '10s' })).toBeNull()
    expect(loader).toHaveBeenCalledTimes(1)
  })

  it('rejects an unserializable value from a synchronous loader', async () => {
    const { cache } = single()
    await expect(cache.getOrSet('k', () => ({ when: new Date() }))).rejects.toThrow(/the loaded value\.when cannot be cached/)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('does not build the loader abort controller unless the loader reads the signal', async () => {
    const { cache } = single()
    let signal: unknown
    await cache.getOrSet('a', () => 1)
    await cache.getOrSet('b', (ctx) => {
      signal = ctx.signal
      return 2
    })
    expect(signal).toBeDefined()
    expect((signal as { aborted: boolean }).aborted).toBe(false)
  })
})

describe('entries written by other processes', () => {
  it('accepts entries with tags and windows written elsewhere', async () => {
    const { cache, clock, l2 } = setup()
    const e: Entry = { value: { ok: 1 }, createdAt: clock.now() - 5, freshUntil: clock.now() + 100, staleUntil: clock.now() + 200, errorUntil: clock.now() + 300, tags: ['x'] }
    l2.map.set(':k', e)
    expect(await cache.get('k')).toEqual({ ok: 1 })
  })
})
