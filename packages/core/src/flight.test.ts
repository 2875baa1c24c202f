import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createCache } from './cache.js'
import { FLIGHT_DEAD_AFTER_MS, FLIGHT_OLD_MS, FLIGHT_SLACK_MS, FLIGHT_STEP_MS, flightAlive, joinFlight, ownFlight, type Flight } from './flight.js'
import { memoryCoordinator } from './coordinator.js'
import { memoryStore } from './stores/memory.js'
import type { Store } from './store.js'
import { settledAfter as settledWithin } from './test-support/helpers.js'

// Fake timers stand for the Workers runtime here: clearing every timer after the owner started is what happens
// to a request whose response went out without waitUntil (its timers never fire, its I/O is cancelled).
beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

const host = (): { waitUntil: (p: Promise<unknown>) => void; handed: Promise<unknown>[] } => {
  const handed: Promise<unknown>[] = []
  return { waitUntil: (p) => handed.push(p), handed }
}

function never<T>(): Promise<T> {
  return new Promise<T>(() => {})
}

describe('ownFlight / joinFlight', () => {
  it('the owner hands its work to its host and beats until it settles', async () => {
    const flight: Flight = { beat: undefined, done: false }
    const { waitUntil, handed } = host()
    let finish!: (v: string) => void
    const work = new Promise<string>((resolve) => (finish = resolve))
    ownFlight(flight, work, waitUntil)
    expect(handed).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(flightAlive(flight)).toBe(true)
    finish('v')
    await vi.advanceTimersByTimeAsync(0)
    expect(flight.done).toBe(true)
    expect(flightAlive(flight)).toBe(false)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a joiner gets the work of a live owner within the flight\'s deadline, however long it takes', async () => {
    const flight: Flight = { beat: undefined, done: false }
    let finish!: (v: string) => void
    const work = new Promise<string>((resolve) => (finish = resolve))
    ownFlight(flight, work, host().waitUntil, { bound: 60_000, key: 'k', phase: 'loader' })
    const redo = vi.fn(async () => 'redone')
    const joined = joinFlight(flight, work, host().waitUntil, redo)
    await vi.advanceTimersByTimeAsync(30_000)
    finish('shared')
    await expect(joined).resolves.toBe('shared')
    expect(redo).not.toHaveBeenCalled()
  })

  it('a joiner of an owner that keeps beating but is stuck redoes the work once the deadline passed', async () => {
    const flight: Flight = { beat: undefined, done: false }
    // The owner's request lives on (its heartbeat keeps firing); its work never settles.
    ownFlight(flight, never(), host().waitUntil, { bound: 5_000, key: 'k', phase: 'loader' })
    const redo = vi.fn(async () => 'redone')
    let answer: string | undefined
    void joinFlight(flight, never<string>(), host().waitUntil, redo).then((value) => (answer = value))
    await vi.advanceTimersByTimeAsync(4_500)
    expect(flightAlive(flight)).toBe(true)
    expect(answer).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(answer).toBe('redone')
    expect(redo).toHaveBeenCalledTimes(1)
    // A later caller does not join it either: it starts anew.
    expect(flightAlive(flight)).toBe(false)
  })

  it('reports shared work running past FLIGHT_OLD_MS once, naming the key and the phase', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const flight: Flight = { beat: undefined, done: false }
      ownFlight(flight, never(), host().waitUntil, { bound: Number.POSITIVE_INFINITY, key: 'user:7', phase: 'tiers' })
      flight.phase = 'loader'
      await vi.advanceTimersByTimeAsync(FLIGHT_OLD_MS - 500)
      expect(warn).not.toHaveBeenCalled()
      await vi.advanceTimersByTimeAsync(1_000)
      expect(warn).toHaveBeenCalledTimes(1)
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/"user:7".*phase: loader/)
      await vi.advanceTimersByTimeAsync(FLIGHT_OLD_MS * 3)
      expect(warn).toHaveBeenCalledTimes(1)
    } finally {
      warn.mockRestore()
    }
  })

  it('a joiner redoes the work once the owner stopped beating (its request is gone)', async () => {
    const flight: Flight = { beat: undefined, done: false }
    ownFlight(flight, never(), host().waitUntil)
    vi.clearAllTimers()
    const redo = vi.fn(async () => 'redone')
    const joined = joinFlight(flight, never<string>(), host().waitUntil, redo)
    await vi.advanceTimersByTimeAsync(FLIGHT_DEAD_AFTER_MS + 1_000)
    await expect(joined).resolves.toBe('redone')
    expect(redo).toHaveBeenCalledTimes(1)
    expect(flightAlive(flight)).toBe(false)
  })

  it('passes the owner\'s failure on to joiners', async () => {
    const flight: Flight = { beat: undefined, done: false }
    const work = Promise.reject(new Error('origin down'))
    ownFlight(flight, work, host().waitUntil)
    await expect(joinFlight(flight, work, host().waitUntil, async () => 'redone')).rejects.toThrow('origin down')
  })

  it('without a host nothing beats and a joiner just awaits the work', async () => {
    const flight: Flight = { beat: undefined, done: false }
    const work = Promise.resolve('plain')
    ownFlight(flight, work, undefined)
    expect(flight.beat).toBeUndefined()
    expect(vi.getTimerCount()).toBe(0)
    await expect(joinFlight(flight, work, undefined, async () => 'redone')).resolves.toBe('plain')
  })
})

describe('getOrSet and getManyOrSet under the Workers rule', () => {
  /** A tier below memory whose first read never answers, like a Redis read made by a request that went away. */
  function lostFirstRead(): Store {
    let reads = 0
    return {
      name: 'lost-first-read',
      get: () => (reads++ === 0 ? never() : Promise.resolve(undefined)),
      async set() {},
      async delete() {},
    }
  }

  it('a caller joining a read whose owner is gone reads and loads itself, and the key is not stuck', async () => {
    const cache = createCache({ tiers: [memoryStore(), lostFirstRead()], tierTimeout: 0 })
    const loader = vi.fn(async () => 'loaded')
    // The owner's request: its read hangs, then its timers are gone.
    void cache.withContext(host()).getOrSet('k', loader, { ttl: '1m' })
    await vi.advanceTimersByTimeAsync(0)
    vi.clearAllTimers()
    // Another request joins that read; once the owner is found silent, it does the work itself.
    const joined = cache.withContext(host()).getOrSet('k', loader, { ttl: '1m' })
    await vi.advanceTimersByTimeAsync(FLIGHT_DEAD_AFTER_MS + 1_000)
    await expect(joined).resolves.toBe('loaded')
    expect(loader).toHaveBeenCalledTimes(1)
    // A later request is answered from the tiers: nothing was left stuck.
    await expect(cache.withContext(host()).getOrSet('k', async () => 'not again', { ttl: '1m' })).resolves.toBe('loaded')
  })

  it('a caller joining a load whose owner is gone loads itself (memory-only cache)', async () => {
    const cache = createCache({ tiers: [memoryStore()] })
    void cache.withContext(host()).getOrSet('k', () => never<string>(), { ttl: '1m' })
    vi.clearAllTimers()
    const joined = cache.withContext(host()).getOrSet('k', async () => 'mine', { ttl: '1m' })
    await vi.advanceTimersByTimeAsync(FLIGHT_DEAD_AFTER_MS + 1_000)
    await expect(joined).resolves.toBe('mine')
  })

  it('a batch joining a load whose owner is gone loads that key itself', async () => {
    const cache = createCache({ tiers: [memoryStore()] })
    void cache.withContext(host()).getOrSet('a', () => never<string>(), { ttl: '1m' })
    vi.clearAllTimers()
    const loadMany = vi.fn(async (keys: string[]) => keys.map((key) => `batch ${key}`))
    const joined = cache.withContext(host()).getManyOrSet(['a', 'b'], loadMany, { ttl: '1m' })
    await vi.advanceTimersByTimeAsync(FLIGHT_DEAD_AFTER_MS + 1_000)
    await expect(joined).resolves.toEqual(['batch a', 'batch b'])
    expect(loadMany.mock.calls.map(([keys]) => keys)).toEqual([['b'], ['a']])
  })

  it('a tag check waits on the coordinator at most tierTimeout, then serves what the tier holds and reports it', async () => {
    const coordinator = { name: 'lost', invalidatedAt: () => never<number>(), invalidateTags: async () => {} }
    const events: string[] = []
    const l2 = memoryStore()
    const writer = createCache({ tiers: [memoryStore(), l2] })
    await writer.set('k', 'tagged', { ttl: '1m', tags: ['t'] })
    const reader = createCache({ tiers: [memoryStore(), l2], coordinator, tierTimeout: 300, onEvent: (e) => events.push(e.error?.code ?? e.type) })
    const answer = reader.withContext(host()).getOrSet('k', async () => 'loaded', { ttl: '1m' })
    await vi.advanceTimersByTimeAsync(300)
    await expect(answer).resolves.toBe('tagged')
    expect(events).toContain('COORDINATOR_ERROR')
  })

  const settledAfter = (promise: Promise<unknown>, limit: number): Promise<number> => settledWithin(promise, limit, 100)

  // A stuck owner: its request lives on and beats, but its loader never answers (it awaits something that will not
  // settle). Joiners wait until the deadline derived from the cache's timeouts, then load themselves.
  describe('an owner that keeps beating but is stuck', () => {
    it('a caller joining its read and load loads itself after the bound (memory-only cache)', async () => {
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      try {
        const cache = createCache({ tiers: [memoryStore()], tierTimeout: 1_000 })
        const stuck = vi.fn(() => never<string>())
        void cache.withContext(host()).getOrSet('k', stuck, { ttl: '1m' })
        const joined = cache.withContext(host()).getOrSet('k', async () => 'mine', { ttl: '1m' })
        // A memory tier answers at once, so the caller joins the load itself: the stamp (the tier timeout), the loader
        // without hardTimeout (FLIGHT_STEP_MS), slack; then the joiner's next check.
        const bound = 1_000 + FLIGHT_STEP_MS + FLIGHT_SLACK_MS
        const after = await settledAfter(joined, 3 * bound)
        expect(after).toBeGreaterThanOrEqual(bound)
        expect(after).toBeLessThan(bound + 1_000)
        await expect(joined).resolves.toBe('mine')
        expect(stuck).toHaveBeenCalledTimes(1)
        // Its answer is stored: the next caller neither waits nor loads.
        await expect(cache.withContext(host()).getOrSet('k', async () => 'not again', { ttl: '1m' })).resolves.toBe('mine')
        // The stuck load was reported once as the load's, in its loader (and the read that waited on it once).
        const reports = warn.mock.calls.map(([line]) => String(line))
        expect(reports.filter((line) => /"k".*phase: loader/.test(line))).toHaveLength(1)
      } finally {
        warn.mockRestore()
      }
    })

    it('with a shared tier and a coordinator, the bound counts the tier timeout and lockWait', async () => {
      vi.spyOn(console, 'warn').mockImplementation(() => {})
      const l2 = memoryStore()
      const coordinator = memoryCoordinator()
      const options = { tierTimeout: 500, lockWait: 1_500, coordinator }
      const owner = createCache({ tiers: [memoryStore(), l2], ...options })
      void owner.withContext(host()).getOrSet('k', () => never<string>(), { ttl: '1m' })
      const joined = owner.withContext(host()).getOrSet('k', async () => 'mine', { ttl: '1m' })
      // The read and-decide (500), then the load: lock request (500) + lockWait, stamp (500), loader, slack.
      const bound = 500 + 500 + 1_500 + 500 + FLIGHT_STEP_MS + FLIGHT_SLACK_MS
      const after = await settledAfter(joined, 3 * bound)
      expect(after).toBeGreaterThanOrEqual(bound)
      // Its own load then waits for the stuck owner's coordinator lock (lockWait) before loading without it.
      expect(after).toBeLessThan(bound + 500 + 1_500 + 1_000)
      await expect(joined).resolves.toBe('mine')
      vi.mocked(console.warn).mockRestore()
    })

    it('a batch joining its load loads that key itself after the bound', async () => {
      vi.spyOn(console, 'warn').mockImplementation(() => {})
      const cache = createCache({ tiers: [memoryStore()], tierTimeout: 1_000 })
      void cache.withContext(host()).getOrSet('a', () => never<string>(), { ttl: '1m' })
      const loadMany = vi.fn(async (keys: string[]) => keys.map((key) => `batch ${key}`))
      const joined = cache.withContext(host()).getManyOrSet(['a', 'b'], loadMany, { ttl: '1m' })
      const after = await settledAfter(joined, 60_000)
      expect(after).toBeLessThan(2 * 1_000 + FLIGHT_STEP_MS + FLIGHT_SLACK_MS + 1_000)
      await expect(joined).resolves.toEqual(['batch a', 'batch b'])
      expect(loadMany.mock.calls.map(([keys]) => keys)).toEqual([['b'], ['a']])
      vi.mocked(console.warn).mockRestore()
    })

    it('a caller joining a stuck batch loads its key itself after the bound', async () => {
      vi.spyOn(console, 'warn').mockImplementation(() => {})
      const cache = createCache({ tiers: [memoryStore()], tierTimeout: 1_000 })
      const batch = vi.fn(() => never<string[]>())
      void cache.withContext(host()).getManyOrSet(['a', 'b'], batch, { ttl: '1m' })
      await vi.advanceTimersByTimeAsync(0)
      expect(batch).toHaveBeenCalledTimes(1)
      const joined = cache.withContext(host()).getOrSet('a', async () => 'single a', { ttl: '1m' })
      const after = await settledAfter(joined, 60_000)
      expect(after).toBeLessThan(2 * 1_000 + FLIGHT_STEP_MS + FLIGHT_SLACK_MS + 1_000)
      await expect(joined).resolves.toBe('single a')
      vi.mocked(console.warn).mockRestore()
    })
  })

  it('joiners of a live owner still share its one load', async () => {
    const cache = createCache({ tiers: [memoryStore()] })
    const loader = vi.fn(async () => {
      await new Promise((r) => setTimeout(r, 5_000))
      return 'once'
    })
    const calls = Array.from({ length: 5 }, () => cache.withContext(host()).getOrSet('k', loader, { ttl: '1m' }))
    await vi.advanceTimersByTimeAsync(6_000)
    await expect(Promise.all(calls)).resolves.toEqual(Array(5).fill('once'))
    expect(loader).toHaveBeenCalledTimes(1)
  })
})
