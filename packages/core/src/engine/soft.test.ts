import { describe, expect, it } from 'vitest'
import { createCache } from '../cache.js'
import { memoryCoordinator, type Coordinator } from '../coordinator.js'
import type { CacheEvent } from '../events.js'
import type { Policy } from '../policy.js'
import { memoryStore } from '../stores/memory.js'
import { deferred, flush, manualClock, ScriptedStore } from '../test-support/helpers.js'
import { SOFT_TAG } from './soft.js'
import type { ReadStatus } from './status.js'
import type { Entry } from '../entry.js'
import type { Store } from '../store.js'

/** A memoryCoordinator that answers tag questions asynchronously, like a remote one, and logs invalidations. */
function remoteLike(now: () => number): { coordinator: Coordinator; invalidated: string[][]; asked: string[][] } {
  const inner = memoryCoordinator({ now })
  const invalidated: string[][] = []
  const asked: string[][] = []
  const coordinator: Coordinator = {
    name: 'remote-like',
    // Like a remote coordinator that reads the soft records with the hard ones (one request).
    softRecords: true,
    stamp: () => inner.stamp(),
    tagStamp: (tags) => {
      asked.push([...tags])
      return Promise.resolve(inner.tagStamp(tags))
    },
    invalidateTags: (tags) => {
      invalidated.push([...tags])
      return inner.invalidateTags(tags)
    },
  }
  return { coordinator, invalidated, asked }
}

describe('invalidateTags(tags, { mode: "soft" })', () => {
  it('serves the entries stale while exactly one refresh runs, then the refreshed value as fresh', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], now: clock.now, policy: { ttl: '1h', swr: '1m', tags: ['products'] } })
    await cache.getOrSet('lamp', () => 'v1')
    clock.advance(10)
    await cache.invalidateTags(['products'], { mode: 'soft' })
    clock.advance(10)
    const gate = deferred<string>()
    let calls = 0
    const loader = (): Promise<string> => {
      calls++
      return gate.promise
    }
    const status: ReadStatus = {}
    const answers: string[] = []
    for (let i = 0; i < 3; i++) {
      void cache.getOrSet('lamp', loader, undefined, i === 0 ? { status } : undefined).then((v) => answers.push(v as string))
    }
    await flush()
    // Answered at once with the old value, not held until the loader answers.
    expect(answers).toEqual(['v1', 'v1', 'v1'])
    expect(status).toMatchObject({ state: 'stale', tier: 0, refreshing: true })
    expect(calls).toBe(1)
    gate.resolve('v2')
    await cache.idle()
    clock.advance(10)
    const after: ReadStatus = {}
    expect(await cache.getOrSet('lamp', loader, undefined, { status: after })).toBe('v2')
    expect(after.state).toBe('fresh')
    expect(calls).toBe(1)
  })

  it('leaves entries of other tags, and entries loaded after it, fresh; hard stays the default', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], now: clock.now, policy: { ttl: '1h', swr: '1m' } })
    await cache.getOrSet('a', () => 'a1', { tags: ['t'] })
    await cache.getOrSet('b', () => 'b1', { tags: ['other'] })
    clock.advance(10)
    await cache.invalidateTags(['t'], { mode: 'soft' })
    clock.advance(10)
    const b: ReadStatus = {}
    expect(await cache.getOrSet('b', () => 'b2', { tags: ['other'] }, { status: b })).toBe('b1')
    expect(b.state).toBe('fresh')
    // Hard (no options): gone, the loader answers.
    await cache.getOrSet('c', () => 'c1', { tags: ['h'] })
    clock.advance(10)
    await cache.invalidateTags(['h'])
    clock.advance(10)
    expect(await cache.getOrSet('c', () => 'c2', { tags: ['h'] })).toBe('c2')
  })

  it('without an swr window keeps the entry only as the fallback of a failed load (stale-if-error)', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], now: clock.now, policy: { ttl: '1h', staleIfError: '1d', tags: ['t'] } })
    await cache.getOrSet('k', () => 'old')
    clock.advance(10)
    await cache.invalidateTags(['t'], { mode: 'soft' })
    clock.advance(10)
    const failed: ReadStatus = {}
    expect(await cache.getOrSet('k', () => Promise.reject(new Error('origin down')), undefined, { status: failed })).toBe('old')
    expect(failed.state).toBe('stale-if-error')
    // Past the refresh backoff of that failure (at most 1.25 s), a caller waits for the load, which answers.
    clock.advance(1250)
    expect(await cache.getOrSet('k', () => 'new')).toBe('new')
  })

  it('without any stale window is as hard as a hard invalidation', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], now: clock.now, policy: { ttl: '1h', tags: ['t'] } })
    await cache.getOrSet('k', () => 'old')
    clock.advance(10)
    await cache.invalidateTags(['t'], { mode: 'soft' })
    clock.advance(10)
    await expect(cache.getOrSet('k', () => Promise.reject(new Error('origin down')))).rejects.toThrow('origin down')
  })

  it('reaches another process through the shared coordinator, on the tag\'s own soft record', async () => {
    const clock = manualClock()
    const { coordinator, invalidated } = remoteLike(clock.now)
    const shared = new ScriptedStore('shared')
    const policy = { ttl: '1h', swr: '1m', tags: ['products'] } as const
    const a = createCache({ tiers: [memoryStore({ name: 'a-l1' }), shared], coordinator, now: clock.now, namespace: 'shop', policy })
    const b = createCache({ tiers: [memoryStore({ name: 'b-l1' }), shared], coordinator, now: clock.now, namespace: 'shop', policy })
    await a.getOrSet('lamp', () => 'v1')
    await a.idle()
    expect(await b.getOrSet('lamp', () => 'never')).toBe('v1')
    await b.idle()
    clock.advance(10)
    await a.invalidateTags(['products'], { mode: 'soft' })
    // The soft record is the coordinator's ordinary record of a name no tag can have.
    expect(invalidated).toEqual([[`${SOFT_TAG}shop:products`]])
    clock.advance(10)
    let loads = 0
    const status: ReadStatus = {}
    expect(await b.getOrSet('lamp', () => (loads++, 'v2'), undefined, { status })).toBe('v1')
    expect(status).toMatchObject({ state: 'stale', tierName: 'b-l1' })
    await b.idle()
    expect(loads).toBe(1)
    expect(shared.map.get('shop:lamp')?.value).toBe('v2')
    clock.advance(10)
    // A, whose L1 still holds v1, refreshes too: its entry is as stale as B's was (one more load, in the background).
    expect(await a.getOrSet('lamp', () => 'v3')).toBe('v1')
    await a.idle()
    expect(await a.getOrSet('lamp', () => 'never')).toMatch(/^v[23]$/)
  })

  it('asks a remote coordinator one question for the hard and soft records of a fresh entry', async () => {
    const clock = manualClock()
    const { coordinator, asked } = remoteLike(clock.now)
    const shared = new ScriptedStore('shared')
    const policy = { ttl: '1h', swr: '1m', tags: ['a', 'b'] } as const
    const writer = createCache({ tiers: [shared], coordinator, now: clock.now, policy })
    await writer.set('k', 'v1')
    clock.advance(10)
    const reader = createCache({ tiers: [shared], coordinator, now: clock.now, policy })
    asked.length = 0
    expect(await reader.getOrSet('k', () => 'never')).toBe('v1')
    expect(asked).toEqual([[':a', ':b', `${SOFT_TAG}:a`, `${SOFT_TAG}:b`]])
    // After a soft invalidation, the hard records alone decide between stale and dead: one more question.
    await writer.invalidateTags(['b'], { mode: 'soft' })
    clock.advance(10)
    asked.length = 0
    const status: ReadStatus = {}
    expect(await reader.getOrSet('k', () => 'v2', undefined, { status })).toBe('v1')
    expect(status.state).toBe('stale')
    expect(asked.slice(0, 2)).toEqual([[':a', ':b', `${SOFT_TAG}:a`, `${SOFT_TAG}:b`], [':a', ':b']])
    await reader.idle()
  })

  it('waits for the one question at most tierTimeout: a tag read that never answers (shared with a request that ended) serves the entry, reporting it', async () => {
    const inner = memoryCoordinator()
    const coordinator: Coordinator = {
      name: 'hanging',
      softRecords: true,
      stamp: () => inner.stamp(),
      tagStamp: () => new Promise<number>(() => {}),
      invalidateTags: (tags) => inner.invalidateTags(tags),
    }
    const events: CacheEvent[] = []
    const cache = createCache({ tiers: [memoryStore()], coordinator, tierTimeout: 50, policy: { ttl: '1h', tags: ['products'] }, onEvent: (e) => events.push(e) })
    expect(await cache.getOrSet('lamp', () => 'v1')).toBe('v1')
    expect(await cache.getOrSet('lamp', () => 'v2')).toBe('v1')
    expect(events.some((e) => e.type === 'error' && e.error.code === 'COORDINATOR_ERROR')).toBe(true)
  })

  it('is refused, naming the coordinator, by one that keeps no soft records; reads then ask for the hard ones only', async () => {
    const clock = manualClock()
    const { coordinator: remote, asked } = remoteLike(clock.now)
    const coordinator: Coordinator = { ...remote, name: 'no-soft', softRecords: false }
    const cache = createCache({ tiers: [new ScriptedStore('shared')], coordinator, now: clock.now, policy: { ttl: '1h', swr: '1m', tags: ['a'] } })
    await cache.set('k', 'v1')
    clock.advance(10)
    asked.length = 0
    expect(await cache.getOrSet('k', () => 'never')).toBe('v1')
    expect(asked).toEqual([[':a']])
    await expect(cache.invalidateTags(['a'], { mode: 'soft' })).rejects.toThrow(
      new TypeError("invalidateTags(tags, { mode: 'soft' }): the coordinator 'no-soft' keeps no soft records (Coordinator.softRecords); use mode 'hard', or a coordinator that does"),
    )
    // Hard and expire need nothing of the coordinator.
    await cache.expire('k')
    const status: ReadStatus = {}
    expect(await cache.getOrSet('k', () => 'v2', undefined, { status })).toBe('v1')
    expect(status.state).toBe('stale')
    await cache.idle()
  })

  it('applies to getManyOrSet: stale values answer, one loadMany refreshes them', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], now: clock.now, policy: { ttl: '1h', swr: '1m', tags: ['t'] } })
    await cache.getManyOrSet(['x', 'y'], (keys) => keys.map((k) => `${k}1`))
    clock.advance(10)
    await cache.invalidateTags(['t'], { mode: 'soft' })
    clock.advance(10)
    const batches: string[][] = []
    const loadMany = (keys: string[]): string[] => {
      batches.push(keys)
      return keys.map((k) => `${k}2`)
    }
    expect(await cache.getManyOrSet(['x', 'y'], loadMany)).toEqual(['x1', 'y1'])
    await cache.idle()
    expect(batches).toEqual([['x', 'y']])
    clock.advance(10)
    expect(await cache.getManyOrSet(['x', 'y'], loadMany)).toEqual(['x2', 'y2'])
    expect(batches).toHaveLength(1)
  })

  it('reports the mode in the invalidate event, and rejects a bad mode at the call', async () => {
    const events: CacheEvent[] = []
    const cache = createCache({ tiers: [memoryStore()], onEvent: (e) => events.push(e) })
    await cache.invalidateTags(['t'], { mode: 'soft' })
    expect(events.filter((e) => e.type === 'invalidate')).toEqual([expect.objectContaining({ tags: ['t'], mode: 'soft' })])
    await expect(cache.invalidateTags(['t'], { mode: 'sofft' as 'soft' })).rejects.toThrow(TypeError)
    await expect(cache.invalidateTags(['t'], { mode: 'sofft' as 'soft' })).rejects.toThrow(/options\.mode must be 'hard' or 'soft', got "sofft"/)
    await expect(cache.invalidateTags(['t'], 'soft' as never)).rejects.toThrow(/options must be an object/)
  })
})

describe('expire(key)', () => {
  function twoTiers(policy: Policy) {
    const clock = manualClock()
    const l2 = new ScriptedStore('l2')
    const events: CacheEvent[] = []
    const cache = createCache({ tiers: [memoryStore({ name: 'l1' }), l2], now: clock.now, policy, onEvent: (e) => events.push(e) })
    return { cache, clock, l2, events }
  }

  it('makes the entry of every tier stale now, for its swr length, while one refresh runs', async () => {
    const { cache, clock, l2, events } = twoTiers({ ttl: '1h', swr: '1m', staleIfError: '1d' })
    await cache.getOrSet('k', () => 'v1')
    await cache.idle()
    clock.advance(1000)
    const now = clock.now()
    await cache.expire('k')
    expect(l2.map.get(':k')).toMatchObject({ value: 'v1', freshUntil: now, staleUntil: now + 60_000, errorUntil: now + 86_400_000 })
    expect(events.filter((e) => e.type === 'expire')).toEqual([expect.objectContaining({ key: 'k', at: now })])
    const status: ReadStatus = {}
    let loads = 0
    expect(await cache.getOrSet('k', () => (loads++, 'v2'), undefined, { status })).toBe('v1')
    expect(status).toMatchObject({ state: 'stale', tier: 0 })
    await cache.idle()
    expect(loads).toBe(1)
    expect(await cache.getOrSet('k', () => 'never')).toBe('v2')
    // Past the swr length counted from the expire, the old value is no longer served.
    await cache.expire('k')
    clock.advance(60_001)
    expect(await cache.getOrSet('k', () => 'v3')).toBe('v3')
  })

  it('deletes an entry left with no window to serve in, and writes nothing for a missing or stale one', async () => {
    const { cache, clock, l2 } = twoTiers({ ttl: '1h' })
    await cache.getOrSet('k', () => 'v1')
    await cache.idle()
    clock.advance(10)
    await cache.expire('k')
    expect(l2.map.has(':k')).toBe(false)
    expect(await cache.getOrSet('k', () => 'v2')).toBe('v2')
    await cache.idle()
    const sets = l2.calls.set
    await cache.expire('missing')
    clock.advance(3_600_000)
    await cache.expire('k')
    expect(l2.calls.set).toBe(sets)
  })

  it('keeps an entry without swr as the fallback of a failed load', async () => {
    const { cache, clock } = twoTiers({ ttl: '1h', staleIfError: '1d' })
    await cache.getOrSet('k', () => 'v1')
    await cache.idle()
    clock.advance(10)
    await cache.expire('k')
    const status: ReadStatus = {}
    expect(await cache.getOrSet('k', () => Promise.reject(new Error('down')), undefined, { status })).toBe('v1')
    expect(status.state).toBe('stale-if-error')
  })

  it('stops a load in flight from writing its (possibly older) answer, which still reaches its caller', async () => {
    const { cache, clock, l2 } = twoTiers({ ttl: '1h', swr: '1m' })
    await cache.getOrSet('k', () => 'v1')
    await cache.idle()
    clock.advance(10)
    const gate = deferred<string>()
    const status: ReadStatus = {}
    const running = cache.getOrSet('k', () => gate.promise, undefined, { forceFresh: true, status })
    await cache.expire('k')
    gate.resolve('loaded before the expire')
    expect(await running).toBe('loaded before the expire')
    expect(status.stored).toBe(false)
    await cache.idle()
    expect(l2.map.get(':k')?.value).toBe('v1')
  })

  it('checks the key at the call', async () => {
    const { cache } = twoTiers({ ttl: '1h' })
    await expect(cache.expire('')).rejects.toThrow(/key/)
    await expect(cache.expire(42 as unknown as string)).rejects.toThrow(TypeError)
  })
})

/**
 * A network-like tier over a Map whose reads and writes can be held: a held read answers what the map held when it
 * was asked (as Redis answers a request in the order it arrived), once let go; a held write lands once let go.
 */
class HeldStore implements Store {
  readonly map = new Map<string, Entry>()
  hold: { gets: Promise<void> | undefined; sets: Promise<void> | undefined } = { gets: undefined, sets: undefined }
  constructor(readonly name: string) {}
  async get(key: string): Promise<Entry | undefined> {
    const answer = this.map.get(key)
    if (this.hold.gets !== undefined) await this.hold.gets
    return answer
  }
  async set(key: string, entry: Entry): Promise<void> {
    if (this.hold.sets !== undefined) await this.hold.sets
    this.map.set(key, entry)
  }
  async delete(key: string): Promise<void> {
    this.map.delete(key)
  }
}

/**
 * `lamp` written as v1 (then `afterWrite`), soft-invalidated; the first read answers v1 stale and starts the refresh,
 * whose loader waits for `gate`.
 */
async function refreshing(tiers: Store[], coordinator: Coordinator, clock: ReturnType<typeof manualClock>, afterWrite?: () => Promise<void>) {
  const cache = createCache({ tiers, coordinator, now: clock.now, policy: { ttl: '1h', swr: '1m', tags: ['products'] } })
  await cache.getOrSet('lamp', () => 'v1')
  await cache.idle()
  await afterWrite?.()
  clock.advance(10)
  await cache.invalidateTags(['products'], { mode: 'soft' })
  clock.advance(10)
  let calls = 0
  const gate = deferred<string>()
  const loader = (): Promise<string> => {
    calls++
    return gate.promise
  }
  expect(await cache.getOrSet('lamp', loader)).toBe('v1')
  await flush()
  expect(calls).toBe(1)
  return { cache, loader, gate, calls: () => calls }
}

describe('one refresh per soft invalidation, whatever the timing of the reads (issue 13: Upstash burst, 2 loads)', () => {
  /**
   * `lamp` written as v1 in the shared tier only, then soft-invalidated; the first read answers v1 stale and starts
   * the refresh. `locks`: the coordinator has locks (memoryCoordinator), else none (a remote-like one without).
   */
  async function softInvalidated(l1: Store, l2: HeldStore, locks = true) {
    const clock = manualClock()
    const coordinator = locks ? memoryCoordinator({ now: clock.now }) : remoteLike(clock.now).coordinator
    return refreshing([l1, l2], coordinator, clock, () => l1.delete(':lamp'))
  }

  it('a read that began before the refresh wrote and judges the old entry after it ended starts no second refresh', async () => {
    const l2 = new HeldStore('shared')
    const { cache, loader, gate, calls } = await softInvalidated(memoryStore(), l2)
    // A slower read of the shared tier: asked while the refresh runs, answered after it wrote and released its lock.
    const release = deferred<void>()
    l2.hold.gets = release.promise
    const late = cache.getOrSet('lamp', loader)
    await flush()
    l2.hold.gets = undefined
    gate.resolve('v2')
    await cache.idle()
    expect((l2.map.get(':lamp') as Entry).value).toBe('v2')
    release.resolve()
    // It answers the old copy it read (stale, within swr), and leaves the refresh done.
    expect(await late).toBe('v1')
    await cache.idle()
    expect(calls()).toBe(1)
    expect(await cache.getOrSet('lamp', loader)).toBe('v2')
    expect(calls()).toBe(1)
  })

  it('nor does a read that began while the refresh was still writing to the tiers', async () => {
    const l1 = new HeldStore('edge')
    const l2 = new HeldStore('shared')
    // Without a lock to wait on (with one, the second refresh would wait for the first's release, after its writes).
    const { cache, loader, gate, calls } = await softInvalidated(l1, l2, false)
    const landed = deferred<void>()
    l1.hold.sets = landed.promise
    l2.hold.sets = landed.promise
    gate.resolve('v2')
    await flush()
    // The refresh is over (its answer is in), its writes have not landed: a read now finds the old entry.
    expect(l2.map.get(':lamp')?.value).toBe('v1')
    expect(await cache.getOrSet('lamp', loader)).toBe('v1')
    expect(calls()).toBe(1)
    landed.resolve()
    await cache.idle()
    expect(calls()).toBe(1)
    expect(await cache.getOrSet('lamp', loader)).toBe('v2')
  })

  it('a batch read (getManyOrSet) follows the same rule', async () => {
    const l2 = new HeldStore('shared')
    const { cache, gate, calls } = await softInvalidated(memoryStore(), l2)
    let batchCalls = 0
    const loadMany = (keys: string[]) => {
      batchCalls++
      return keys.map(() => 'v3')
    }
    const release = deferred<void>()
    l2.hold.gets = release.promise
    const late = cache.getManyOrSet(['lamp'], loadMany)
    await flush()
    l2.hold.gets = undefined
    gate.resolve('v2')
    await cache.idle()
    release.resolve()
    expect(await late).toEqual(['v1'])
    await cache.idle()
    expect(calls() + batchCalls).toBe(1)
  })
})

describe('one refresh per soft invalidation in a cache whose tiers are all synchronous', () => {
  it('a batch read that judged the old entry after a refresh wrote it (a tag question in between) starts no second one', async () => {
    const clock = manualClock()
    const inner = memoryCoordinator({ now: clock.now })
    // A coordinator whose tag questions can be held, like a remote one answering late.
    let held: Promise<void> | undefined
    let asked = 0
    const coordinator: Coordinator = {
      name: 'held',
      softRecords: true,
      stamp: () => inner.stamp(),
      tagStamp: async (tags) => {
        asked++
        if (held !== undefined) await held
        return inner.tagStamp(tags)
      },
      invalidateTags: (tags) => inner.invalidateTags(tags),
    }
    const { cache, gate, calls } = await refreshing([memoryStore()], coordinator, clock)
    // The batch reads the old entry at once, then waits on its tag question while the refresh writes v2.
    const release = deferred<void>()
    held = release.promise
    const askedBefore = asked
    let batchCalls = 0
    const late = cache.getManyOrSet(['lamp'], (keys) => {
      batchCalls++
      return keys.map(() => 'v3')
    })
    await flush()
    expect(asked).toBeGreaterThan(askedBefore)
    held = undefined
    gate.resolve('v2')
    await flush()
    expect(await cache.get('lamp')).toBe('v2')
    release.resolve()
    expect(await late).toEqual(['v1'])
    await cache.idle()
    expect(calls() + batchCalls).toBe(1)
  })
})
