// One bound on a miss's wait on tiers and locks (issue 9): the read of the tiers and the lock request share the
// tier timeout, and waiting for another process's load ends lockWait later on the clock. Fake timers stand for the
// clock and every timer, so the times below are exact, not measured.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createCache } from '../cache.js'
import { memoryCoordinator, type Coordinator, type Lock, type LockAttempt } from '../coordinator.js'
import type { Entry } from '../entry.js'
import type { Store } from '../store.js'
import { memoryStore } from '../stores/memory.js'
import { scripted, settledAfter as settledWithin } from '../test-support/helpers.js'

const TIER_TIMEOUT = 1_000
const LOCK_WAIT = 2_000

/** A shared tier whose reads answer (a miss) after `delays[n]` ms for the n-th read, or never for Infinity. */
function slowTier(delays: number[]): Store & { reads: number } {
  const tier = {
    name: 'slow-l2',
    reads: 0,
    async get(): Promise<Entry | undefined> {
      const ms = delays[Math.min(tier.reads++, delays.length - 1)] as number
      if (ms === Number.POSITIVE_INFINITY) return new Promise<undefined>(() => {})
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
      return undefined
    },
    async set(): Promise<void> {},
    async delete(): Promise<void> {},
  }
  return tier
}

/** A coordinator whose stamps work and whose locks behave as given. */
function coordinatorWith(locks: Pick<Coordinator, 'lock' | 'acquire'>): Coordinator & { released: number } {
  return scripted(memoryCoordinator(), 'scripted', { released: 0, ...locks })
}

function cacheOver(l2: Store, coordinator: Coordinator) {
  return createCache({
    tiers: [memoryStore(), l2],
    coordinator,
    policy: { ttl: '1h' },
    tierTimeout: TIER_TIMEOUT,
    lockWait: LOCK_WAIT,
    now: () => Date.now(),
  })
}

const settledAfter = (promise: Promise<unknown>, limit: number): Promise<number> => settledWithin(promise, limit, 10)

describe('a miss waits on tiers and locks within one bound (tierTimeout + lockWait)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('does not wait for the lock when the shared tier used the whole tier timeout', async () => {
    const lock = vi.fn(() => new Promise<Lock | undefined>(() => {}))
    const cache = cacheOver(slowTier([Number.POSITIVE_INFINITY]), coordinatorWith({ lock }))
    let loads = 0
    const value = cache.getOrSet('k', () => `v${++loads}`)
    // Before: the timed-out read, then a lock request that never answered (no bound at all).
    expect(await settledAfter(value, 30_000)).toBeLessThanOrEqual(TIER_TIMEOUT + 20)
    expect(await value).toBe('v1')
    // Still asked: a store may take the lock in its read (ReadIntent), and a late grant is then released.
    expect(lock).toHaveBeenCalledTimes(1)
  })

  it('gives the lock request what the read left of the tier timeout, and hands back a lock granted too late', async () => {
    const late = { release: vi.fn(async () => {}) }
    let grant!: (lock: Lock) => void
    const lock = vi.fn(() => new Promise<Lock | undefined>((resolve) => (grant = resolve)))
    const cache = cacheOver(slowTier([600]), coordinatorWith({ lock }))
    const errors: string[] = []
    cache.subscribe((e) => {
      if (e.type === 'error') errors.push(e.error.message)
    })
    const value = cache.getOrSet('k', () => 'loaded')
    const took = await settledAfter(value, 30_000)
    expect(took).toBeGreaterThanOrEqual(TIER_TIMEOUT - 10)
    expect(took).toBeLessThanOrEqual(TIER_TIMEOUT + 20)
    expect(await value).toBe('loaded')
    expect(lock).toHaveBeenCalledTimes(1)
    expect(errors.some((m) => m.includes('no answer to lock'))).toBe(true)
    grant(late)
    await vi.advanceTimersByTimeAsync(0)
    expect(late.release).toHaveBeenCalledTimes(1)
  })

  it('ends polling for the holder lockWait after it began, however long the polling reads take', async () => {
    // The first read answers at once; every polling read hangs until the tier timeout cuts it.
    const l2 = slowTier([0, Number.POSITIVE_INFINITY])
    const cache = cacheOver(l2, coordinatorWith({ lock: async () => undefined }))
    const value = cache.getOrSet('k', () => 'loaded')
    const took = await settledAfter(value, 60_000)
    // Before: lockWait counted only the pauses between reads, each read adding up to a tier timeout (about 25 s).
    expect(took).toBeGreaterThanOrEqual(LOCK_WAIT - 10)
    expect(took).toBeLessThanOrEqual(LOCK_WAIT + 20)
    expect(await value).toBe('loaded')
    expect(cache.stats().lockWaits).toBe(1)
    expect(l2.reads).toBeGreaterThan(1)
  })

  it("bounds a coordinator's acquire by what the read left plus lockWait, and hands back a late lock", async () => {
    const late = { release: vi.fn(async () => {}) }
    let answer!: (attempt: LockAttempt) => void
    const acquire = vi.fn((_key: string, _ttl: number, waitMs: number) => {
      expect(waitMs).toBe(LOCK_WAIT)
      return new Promise<LockAttempt>((resolve) => (answer = resolve))
    })
    const cache = cacheOver(slowTier([600]), coordinatorWith({ acquire }))
    const value = cache.getOrSet('k', () => 'loaded')
    const took = await settledAfter(value, 30_000)
    // Before: the read (600 ms), then lockWait + a whole tier timeout (3,600 ms).
    expect(took).toBeGreaterThanOrEqual(TIER_TIMEOUT + LOCK_WAIT - 10)
    expect(took).toBeLessThanOrEqual(TIER_TIMEOUT + LOCK_WAIT + 20)
    expect(await value).toBe('loaded')
    answer({ status: 'acquired', lock: late })
    await vi.advanceTimersByTimeAsync(0)
    expect(late.release).toHaveBeenCalledTimes(1)
  })

  it("does not wait for a coordinator's acquire when the shared tier used the whole tier timeout, but takes a lock at hand", async () => {
    const acquire = vi.fn(() => new Promise<LockAttempt>(() => {}))
    const cache = cacheOver(slowTier([Number.POSITIVE_INFINITY]), coordinatorWith({ acquire }))
    const errors: string[] = []
    cache.subscribe((e) => {
      if (e.type === 'error') errors.push(e.error.message)
    })
    const value = cache.getOrSet('k', () => 'loaded')
    // Before: the timed-out read, then the acquire's request and wait (TIER_TIMEOUT + LOCK_WAIT more).
    expect(await settledAfter(value, 30_000)).toBeLessThanOrEqual(TIER_TIMEOUT + 20)
    expect(await value).toBe('loaded')
    expect(acquire).toHaveBeenCalledTimes(1)
    // Reported like a lock request given up on; no holder was waited for.
    expect(errors.some((m) => m.includes('no answer to acquire at hand'))).toBe(true)
    expect(cache.stats().lockWaits).toBe(0)

    // A lock the read already took for this process answers at once: it is held (and released after the load).
    const held = { release: vi.fn(async () => {}) }
    const atHand = vi.fn(async (): Promise<LockAttempt> => ({ status: 'acquired', lock: held }))
    const other = cacheOver(slowTier([Number.POSITIVE_INFINITY]), coordinatorWith({ acquire: atHand }))
    const loaded = other.getOrSet('k', () => 'loaded')
    expect(await settledAfter(loaded, 30_000)).toBeLessThanOrEqual(TIER_TIMEOUT + 20)
    await vi.advanceTimersByTimeAsync(TIER_TIMEOUT)
    expect(held.release).toHaveBeenCalledTimes(1)
  })

  it('judges the keys of a batch side by side: tag questions that each hang are waited out once, not once per key', async () => {
    const l1 = memoryStore()
    const writer = createCache({ tiers: [l1] })
    for (const key of ['a', 'b', 'c']) await writer.set(key, `v${key}`, { ttl: '1h', tags: [`t${key}`] })
    const base = memoryCoordinator()
    // Every tag question hangs (a coordinator slower than the timeout): each key's check ends at the tier timeout.
    const coordinator = scripted(base, 'stuck-tags', { tagStamp: () => new Promise<number>(() => {}) })
    const cache = createCache({ tiers: [l1], coordinator, policy: { ttl: '1h' }, tierTimeout: TIER_TIMEOUT, now: () => Date.now() })
    const values = cache.getManyOrSet(['a', 'b', 'c'], async (keys) => keys.map(() => 'loaded'))
    // Before: one tier timeout per key, one after the other (3 x TIER_TIMEOUT).
    expect(await settledAfter(values, 10 * TIER_TIMEOUT)).toBeLessThanOrEqual(TIER_TIMEOUT + 20)
    expect(await values).toEqual(['va', 'vb', 'vc'])
  })

  it("reads the next tier for a batch's keys with nothing in the first while the others' tag questions are asked", async () => {
    const l1 = memoryStore()
    const writer = createCache({ tiers: [l1] })
    await writer.set('a', 'va', { ttl: '1h', tags: ['ta'] })
    const base = memoryCoordinator()
    // A coordinator and a shared tier both slower than the timeout (the endpoint-slow fault): a's tag question and
    // b's read of the shared tier each end at the tier timeout.
    const coordinator = scripted(base, 'stuck-tags', { tagStamp: () => new Promise<number>(() => {}) })
    const l2 = slowTier([Number.POSITIVE_INFINITY])
    const cache = createCache({ tiers: [l1, l2], coordinator, policy: { ttl: '1h' }, tierTimeout: TIER_TIMEOUT, now: () => Date.now() })
    const values = cache.getManyOrSet(['a', 'b'], async (keys) => keys.map((key) => `loaded ${key}`))
    // Before: a's tag question, then b's read of the shared tier (2 x TIER_TIMEOUT); now the longer of the two.
    expect(await settledAfter(values, 10 * TIER_TIMEOUT)).toBeLessThanOrEqual(TIER_TIMEOUT + 20)
    expect(await values).toEqual(['va', 'loaded b'])
    // Only b was read from the shared tier: a's copy answered.
    expect(l2.reads).toBe(1)
    expect(cache.stats().tiers.map((t) => [t.hits, t.misses])).toEqual([
      [1, 1],
      [0, 1],
    ])
  })

  it("bounds the wait for the coordinator's stamp by the tier timeout: a stamp read that never answers does not hang a tagged load", async () => {
    const base = memoryCoordinator()
    // A stamp read shared with a request that ended (Workers) never settles.
    const coordinator: Coordinator = { name: 'stuck-stamp', stamp: () => new Promise<number>(() => {}), tagStamp: (tags) => base.tagStamp(tags), invalidateTags: (tags) => base.invalidateTags(tags) }
    const cache = createCache({ tiers: [memoryStore()], coordinator, policy: { ttl: '1h' }, tierTimeout: TIER_TIMEOUT, now: () => Date.now() })
    const value = cache.getOrSet('k', () => 'loaded', { tags: ['t'] })
    const ms = await settledAfter(value, 10 * TIER_TIMEOUT)
    expect(ms).toBeLessThanOrEqual(TIER_TIMEOUT + 20)
    expect(await value).toBe('loaded')
  })
})
