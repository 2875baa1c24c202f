// A tier read that runs past tierTimeout counts as a miss and the loader runs. When the loader then fails with no
// stale copy at hand, the read that timed out may still answer: the call waits for it within its one bound on tiers
// and locks (tierTimeout + lockWait from the start of its read), and serves what it brings if that may be served now.
// Fake timers stand for the clock (`now` reads Date.now) and every timer: the times below are counted, not measured.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createCache, type CacheOptions } from '../cache.js'
import { createCodec } from '../codec/create-codec.js'
import { memoryCoordinator, type Coordinator } from '../coordinator.js'
import type { Entry } from '../entry.js'
import type { Policy } from '../policy.js'
import type { CacheEvent } from '../stats.js'
import type { Store } from '../store.js'
import { SerializingStore } from '../test-support/serializing-store.js'
import { memoryStore } from '../stores/memory.js'
import { deferred, settledAfter } from '../test-support/helpers.js'
import type { ReadStatus } from './status.js'

const TIER_TIMEOUT = 1_000
const LOCK_WAIT = 2_000
const BOUND = TIER_TIMEOUT + LOCK_WAIT

/** A shared tier over a memory store whose reads answer only when the test releases (or fails) them. */
function heldTier(inner: Store = memoryStore()): Store & { reads: number; release(): void; fail(error: Error): void } {
  let gates: ReturnType<typeof deferred<void>>[] = []
  const tier = {
    name: 'held-l2',
    reads: 0,
    async get(key: string): Promise<Entry | undefined> {
      tier.reads++
      const gate = deferred<void>()
      gates.push(gate)
      await gate.promise
      return inner.get(key)
    },
    set: (key: string, entry: Entry) => inner.set(key, entry),
    delete: (key: string) => inner.delete(key),
    release(): void {
      for (const gate of gates) gate.resolve()
      gates = []
    },
    fail(error: Error): void {
      for (const gate of gates) gate.reject(error)
      gates = []
    },
  }
  return tier
}

function setup(coordinator?: Coordinator, more?: Pick<CacheOptions, 'codec'>, inner?: Store) {
  const l1 = memoryStore()
  const l2 = heldTier(inner)
  const events: CacheEvent[] = []
  const options = { policy: { ttl: 60_000 }, tierTimeout: TIER_TIMEOUT, lockWait: LOCK_WAIT, now: () => Date.now(), ...(coordinator && { coordinator }), ...more }
  const cache = createCache({ tiers: [l1, l2], onEvent: (e) => events.push(e), ...options })
  // Writes into the shared tier only (its writes are not held).
  const writer = createCache({ tiers: [l2], ...options })
  const put = (value: string, policy: Policy) => writer.set('k', value, policy)
  return { cache, l2, events, put }
}

const originDown = (): never => {
  throw new Error('origin down')
}

/** Whether `promise` settled by now (after the timers advanced so far). */
function watch(promise: Promise<unknown>): () => boolean {
  let done = false
  promise.then(
    () => (done = true),
    () => (done = true),
  )
  return () => done
}

describe('a failed load waits for the tier read that ran past tierTimeout (issue 9)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('answers with the fresh entry the late read brings, as a hit of that tier, and copies it into L1', async () => {
    const { cache, l2, events, put } = setup()
    await put('from l2', { ttl: '1h' })
    const status: ReadStatus = {}
    const value = cache.getOrSet('k', originDown, undefined, { status })
    const settled = watch(value)
    await vi.advanceTimersByTimeAsync(1_500)
    // Before: the timed-out read was a miss, the loader failed, and the caller got its error at 1,000 ms.
    expect(settled()).toBe(false)
    l2.release()
    await expect(value).resolves.toBe('from l2')
    expect(status).toMatchObject({ state: 'fresh', tier: 1, tierName: 'held-l2', stored: false })
    expect(events.filter((e) => e.type === 'hit').map((e) => e.tierIndex)).toEqual([1])
    expect(events.some((e) => e.type === 'error' && e.error.code === 'TIER_TIMEOUT')).toBe(true)
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 0 })
    // L1 holds it now: the next read answers without the shared tier.
    const reads = l2.reads
    await expect(cache.getOrSet('k', originDown)).resolves.toBe('from l2')
    expect(l2.reads).toBe(reads)
  })

  it("decodes (decrypts) the late entry with the tier's codec, as a read in time would", async () => {
    const { cache, l2, put } = setup(undefined, { codec: createCodec({ encryption: { keys: [{ id: 'k1', key: new Uint8Array(32).fill(7) }], current: 'k1' } }) }, new SerializingStore('shared', 'text'))
    await put('encoded in l2', { ttl: '1h' })
    const status: ReadStatus = {}
    const value = cache.getOrSet('k', originDown, undefined, { status })
    await vi.advanceTimersByTimeAsync(1_500)
    l2.release()
    await expect(value).resolves.toBe('encoded in l2')
    expect(status).toMatchObject({ state: 'fresh', tier: 1 })
  })

  it('answers with a late entry within staleIfError as stale-if-error, without copying it up', async () => {
    const { cache, l2, events, put } = setup()
    await put('old', { ttl: 100, staleIfError: '1h' })
    await vi.advanceTimersByTimeAsync(200)
    const status: ReadStatus = {}
    const value = cache.getOrSet('k', originDown, { ttl: '1m' }, { status })
    const settled = watch(value)
    await vi.advanceTimersByTimeAsync(1_500)
    expect(settled()).toBe(false)
    l2.release()
    await expect(value).resolves.toBe('old')
    expect(status).toMatchObject({ state: 'stale-if-error', tier: 1 })
    expect(events.some((e) => e.type === 'stale' && e.reason === 'error' && e.tierIndex === 1)).toBe(true)
    // Not in L1: the next call reads the shared tier again.
    const reads = l2.reads
    const next = cache.getOrSet('k', originDown, { ttl: '1m' })
    await vi.advanceTimersByTimeAsync(0)
    l2.release()
    await expect(next).resolves.toBe('old')
    expect(l2.reads).toBe(reads + 1)
  })

  it("still raises the loader's error when the late entry may not be served: expired, or killed by a tag", async () => {
    const expired = setup()
    await expired.put('old', { ttl: 100 })
    await vi.advanceTimersByTimeAsync(200)
    const value = expired.cache.getOrSet('k', originDown, { ttl: '1m' })
    const settled = watch(value)
    await vi.advanceTimersByTimeAsync(1_500)
    // It waited for the read (before: the error at 1,000 ms) ...
    expect(settled()).toBe(false)
    expired.l2.release()
    // ... and what it brought is dead.
    await expect(value).rejects.toThrow('origin down')

    const coordinator = memoryCoordinator()
    const tagged = setup(coordinator)
    await tagged.put('killed', { ttl: '1h', staleIfError: '1h', tags: ['t'] })
    await vi.advanceTimersByTimeAsync(10)
    await tagged.cache.invalidateTags(['t'])
    const killed = tagged.cache.getOrSet('k', originDown)
    const killedSettled = watch(killed)
    await vi.advanceTimersByTimeAsync(1_500)
    expect(killedSettled()).toBe(false)
    tagged.l2.release()
    await expect(killed).rejects.toThrow('origin down')
  })

  it("gives up at the call's bound (tierTimeout + lockWait) when the late read never settles, with or without locks", async () => {
    for (const coordinator of [undefined, memoryCoordinator()]) {
      const { cache } = setup(coordinator)
      const value = cache.getOrSet('k', originDown)
      const took = await settledAfter(value, 10 * BOUND, 10)
      // Before: at TIER_TIMEOUT, without waiting for the read.
      expect(took).toBeGreaterThanOrEqual(BOUND - 10)
      expect(took).toBeLessThanOrEqual(BOUND + 20)
      await expect(value).rejects.toThrow('origin down')
    }
  })

  it("raises the loader's error when the late read fails", async () => {
    const { cache, l2 } = setup()
    const value = cache.getOrSet('k', originDown)
    const settled = watch(value)
    await vi.advanceTimersByTimeAsync(1_500)
    expect(settled()).toBe(false)
    l2.fail(new Error('l2 down'))
    await expect(value).rejects.toThrow('origin down')
  })

  it('waits for nothing when no read timed out', async () => {
    const { cache, l2, put } = setup()
    await put('old', { ttl: 100 })
    await vi.advanceTimersByTimeAsync(200)
    const value = cache.getOrSet('k', originDown, { ttl: '1m' })
    await vi.advanceTimersByTimeAsync(500)
    l2.release()
    // The read answered in time with a dead entry: the loader's error at once.
    expect(await settledAfter(value, 10 * BOUND, 10)).toBeLessThanOrEqual(20)
    await expect(value).rejects.toThrow('origin down')
  })
})
