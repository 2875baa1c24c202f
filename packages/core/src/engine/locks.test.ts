// The lock contract with a coordinator that hands waiters the holder's outcome (`acquire` + `Lock.share`), against
// polling for coordinators that only have `lock`. Two caches stand for two processes sharing an L2 and a coordinator.
import { describe, expect, it } from 'vitest'
import { createCache, type Cache } from '../cache.js'
import { memoryCoordinator, type Coordinator, type Lock, type LockAttempt } from '../coordinator.js'
import type { Entry } from '../entry.js'
import type { CacheEvent } from '../stats.js'
import type { ReadIntent } from '../store.js'
import { memoryStore } from '../stores/memory.js'
import { createCodec } from '../codec/index.js'
import { deferred, flush, scripted, ScriptedStore } from '../test-support/helpers.js'

interface Held {
  waiters: ((attempt: LockAttempt) => void)[]
  shared: Entry | undefined
}

/** An in-process coordinator with `acquire`: waiters are answered when the holder shares or releases. */
function handingCoordinator(options: { shareGate?: Promise<void> } = {}): Coordinator & { calls: string[] } {
  const base = memoryCoordinator()
  const held = new Map<string, Held>()
  const calls: string[] = []
  return scripted(base, 'handing', {
    calls,
    async acquire(key: string, _ttlMs: number, waitMs: number): Promise<LockAttempt> {
      calls.push('acquire')
      const current = held.get(key)
      if (current === undefined) {
        const mine: Held = { waiters: [], shared: undefined }
        held.set(key, mine)
        const settle = (attempt: LockAttempt): void => {
          for (const waiter of mine.waiters.splice(0)) waiter(attempt)
        }
        const lock: Lock = {
          async share(entry) {
            calls.push('share')
            // A coordinator over the network may take the hand-over in later than a release sent after it.
            if (options.shareGate !== undefined) await options.shareGate
            mine.shared = entry
            settle({ status: 'shared', entry })
          },
          async release() {
            calls.push('release')
            if (held.get(key) === mine) held.delete(key)
            settle({ status: 'released' })
          },
        }
        return { status: 'acquired', lock }
      }
      if (current.shared !== undefined) return { status: 'shared', entry: current.shared }
      return new Promise<LockAttempt>((resolve) => {
        current.waiters.push(resolve)
        setTimeout(() => resolve({ status: 'timeout' }), waitMs)
      })
    },
  })
}

/** A loader that counts its calls and answers once `origin` resolves. */
function heldLoader(): { origin: ReturnType<typeof deferred<string>>; loader: () => Promise<string>; loads: () => number } {
  const origin = deferred<string>()
  let calls = 0
  const loader = (): Promise<string> => {
    calls++
    return origin.promise
  }
  return { origin, loader, loads: () => calls }
}

/** Two caches ("processes") with their own L1 and one shared L2 and coordinator. */
function twoProcesses(coordinator: Coordinator, options: { lockWait?: number; tierTimeout?: number } = {}) {
  const l2 = new ScriptedStore('shared')
  const events: CacheEvent[] = []
  const make = (): Cache =>
    createCache({
      tiers: [memoryStore(), l2],
      coordinator,
      policy: { ttl: '1h' },
      lockWait: options.lockWait ?? 10_000,
      tierTimeout: options.tierTimeout,
      onEvent: (e) => events.push(e),
    })
  return { a: make(), b: make(), l2, events }
}

describe('a coordinator that hands the holder outcome to waiters', () => {
  it('answers the waiter with the shared entry as soon as the holder has loaded, without polling the shared tier', async () => {
    const coordinator = handingCoordinator()
    const { a, b, l2 } = twoProcesses(coordinator)
    const { origin, loader, loads } = heldLoader()
    const first = a.getOrSet('k', loader)
    await flush(50)
    const started = Date.now()
    const second = b.getOrSet('k', loader)
    await new Promise((r) => setTimeout(r, 20))
    const readsBefore = l2.calls.get
    origin.resolve('v')
    expect(await first).toBe('v')
    expect(await second).toBe('v')
    // lockWait is 10 s: the waiter was answered by the hand-over, long before.
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(loads()).toBe(1)
    // No polling reads of L2 while waiting.
    expect(l2.calls.get).toBe(readsBefore)
    expect(b.stats().lockWaits).toBe(1)
    await Promise.all([a.idle(), b.idle()])
    expect(coordinator.calls).toEqual(['acquire', 'acquire', 'share', 'release'])
    // The waiter copied the shared entry into its own L1: its next read needs neither L2 nor the loader.
    const reads = l2.calls.get
    expect(await b.getOrSet('k', loader)).toBe('v')
    expect(l2.calls.get).toBe(reads)
  })

  it('releases the lock only after the hand-over settled, so waiters never see a release that overtook the share', async () => {
    const gate = deferred<void>()
    const coordinator = handingCoordinator({ shareGate: gate.promise })
    const { a, b } = twoProcesses(coordinator)
    const { origin, loader, loads } = heldLoader()
    const first = a.getOrSet('k', loader)
    await flush(50)
    const second = b.getOrSet('k', loader)
    await flush(50)
    origin.resolve('v')
    expect(await first).toBe('v')
    // The L2 write is done; the share is still on its way: nothing may be released yet.
    await flush(50)
    expect(coordinator.calls).toEqual(['acquire', 'acquire', 'share'])
    gate.resolve()
    expect(await second).toBe('v')
    expect(loads()).toBe(1)
    await Promise.all([a.idle(), b.idle()])
    expect(coordinator.calls).toEqual(['acquire', 'acquire', 'share', 'release'])
  })

  it('releases the waiters at once when the holder has nothing to share (an answer dead at once), and they load themselves', async () => {
    const coordinator = handingCoordinator()
    const { a, b } = twoProcesses(coordinator)
    const origin = deferred<string>()
    let loads = 0
    const uncacheable = (ctx: { setPolicy(p: { ttl: number }): void }): Promise<string> => {
      loads++
      ctx.setPolicy({ ttl: 0 })
      return loads === 1 ? origin.promise : Promise.resolve('own')
    }
    const first = a.getOrSet('k', uncacheable)
    await new Promise((r) => setTimeout(r, 5))
    const started = Date.now()
    const second = b.getOrSet('k', uncacheable)
    await new Promise((r) => setTimeout(r, 20))
    origin.resolve('private')
    expect(await first).toBe('private')
    expect(await second).toBe('own')
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(loads).toBe(2)
    await Promise.all([a.idle(), b.idle()])
    expect(coordinator.calls).toEqual(['acquire', 'acquire', 'release'])
  })

  it('releases the waiters at once when the holder fails', async () => {
    const coordinator = handingCoordinator()
    const { a, b } = twoProcesses(coordinator)
    const origin = deferred<string>()
    const first = a.getOrSet('k', () => origin.promise)
    await new Promise((r) => setTimeout(r, 5))
    const second = b.getOrSet('k', () => 'mine')
    await new Promise((r) => setTimeout(r, 20))
    origin.reject(new Error('origin down'))
    await expect(first).rejects.toThrow('origin down')
    expect(await second).toBe('mine')
  })

  it('does not serve a shared entry whose tag was invalidated meanwhile', async () => {
    const coordinator = handingCoordinator()
    const { a, b } = twoProcesses(coordinator)
    const origin = deferred<string>()
    const first = a.getOrSet('k', () => origin.promise, { ttl: '1h', tags: ['t'] })
    await new Promise((r) => setTimeout(r, 5))
    const second = b.getOrSet('k', () => 'after invalidation', { ttl: '1h', tags: ['t'] })
    await new Promise((r) => setTimeout(r, 20))
    await a.invalidateTags(['t'])
    await new Promise((r) => setTimeout(r, 2))
    origin.resolve('before')
    await first
    expect(await second).toBe('after invalidation')
  })

  it("waits on its own deadline (lockWait + tierTimeout) when the coordinator's acquire never answers, then loads", async () => {
    const coordinator: Coordinator = { name: 'silent', stamp: () => 0, tagStamp: () => 0, invalidateTags: async () => 1, acquire: () => new Promise(() => {}) }
    const { a } = twoProcesses(coordinator, { lockWait: 50, tierTimeout: 50 })
    const started = Date.now()
    expect(await a.getOrSet('k', () => 'loaded')).toBe('loaded')
    expect(Date.now() - started).toBeGreaterThanOrEqual(95)
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('loads without the lock, reporting the coordinator error, when acquire rejects', async () => {
    const coordinator: Coordinator = { name: 'broken', stamp: () => 0, tagStamp: () => 0, invalidateTags: async () => 1, acquire: () => Promise.reject(new Error('unreachable')) }
    const { a, events } = twoProcesses(coordinator)
    expect(await a.getOrSet('k', () => 'loaded')).toBe('loaded')
    const error = events.find((e) => e.type === 'error')
    expect(error?.error.code).toBe('COORDINATOR_ERROR')
  })
})

describe('a coordinator with only lock (polling fallback)', () => {
  it('still runs the loader once across two processes: the waiter polls the shared tier', async () => {
    const coordinator = memoryCoordinator()
    const { a, b, l2 } = twoProcesses(coordinator)
    const origin = deferred<string>()
    let loads = 0
    const loader = (): Promise<string> => {
      loads++
      return origin.promise
    }
    const first = a.getOrSet('k', loader)
    await new Promise((r) => setTimeout(r, 5))
    const second = b.getOrSet('k', loader)
    await new Promise((r) => setTimeout(r, 50))
    const reads = l2.calls.get
    origin.resolve('v')
    expect(await first).toBe('v')
    expect(await second).toBe('v')
    expect(loads).toBe(1)
    expect(l2.calls.get).toBeGreaterThan(reads)
  })
})

describe('a cache given no coordinator', () => {
  // Its coordinator is its own: a lock could only make it wait on a load of its own it chose not to join.
  for (const step of ['delete', 'expire'] as const) {
    it(`loads at once after ${step}() left a load of the key running, without waiting lockWait for it`, async () => {
      const cache = createCache({ tiers: [memoryStore(), new ScriptedStore('l2')], policy: { ttl: '1h' }, lockWait: '200ms' })
      const origin = deferred<string>()
      const first = cache.getOrSet('k', () => origin.promise)
      await flush()
      await (step === 'delete' ? cache.delete('k') : cache.expire('k'))
      // Before: the second load waited for the first one's lock, polling the tiers for lockWait (counted in lockWaits).
      expect(await cache.getOrSet('k', () => 'second')).toBe('second')
      expect(cache.stats().lockWaits).toBe(0)
      origin.resolve('first')
      expect(await first).toBe('first')
    })
  }
})

describe('what a load tells the stores and the lock', () => {
  it("passes ReadIntent { lockTtl } to the reads of getOrSet that a load follows, not to get()'s", async () => {
    const l2 = new ScriptedStore('shared')
    const intents: unknown[] = []
    const get = l2.get.bind(l2)
    l2.get = (key: string, intent?: ReadIntent) => {
      intents.push(intent)
      return get(key)
    }
    const cache = createCache({ tiers: [memoryStore(), l2], coordinator: memoryCoordinator(), policy: { ttl: '1h' }, lockTtl: '7s' })
    await cache.get('k')
    expect(await cache.getOrSet('k', () => 'v')).toBe('v')
    expect(intents).toEqual([undefined, { lockTtl: 7_000 }])
    // Without a coordinator lock to take (a single tier below nothing), no intent.
    const alone = new ScriptedStore('alone')
    const seen: unknown[] = []
    const aloneGet = alone.get.bind(alone)
    alone.get = (key: string, intent?: ReadIntent) => {
      seen.push(intent)
      return aloneGet(key)
    }
    await createCache({ tiers: [alone], policy: { ttl: '1h' } }).getOrSet('k', () => 'v')
    expect(seen).toEqual([undefined])
  })
})

describe('an entry handed over in the shared tier’s stored form', () => {
  it('is decoded by that tier’s codec before a waiter answers with it (the holder wrote it encoded)', async () => {
    const l2 = new ScriptedStore('shared')
    // The holder's store write is what its waiters get (as a Redis list would carry it): encoded by the codec.
    const released = deferred<void>()
    let held = false
    const coordinator: Coordinator = {
      ...memoryCoordinator(),
      name: 'stored-form',
      async acquire(key) {
        if (!held) {
          held = true
          return { status: 'acquired', lock: { release: async () => released.resolve() } }
        }
        await released.promise
        return { status: 'shared', entry: l2.map.get(key) as Entry }
      },
    }
    // Compressed: the L2 holds `{ codec: 'json+gzip', value: <bytes> }`.
    const codec = createCodec({ compression: true })
    const big = { n: 1, text: 'tiercache '.repeat(500) }
    const make = (): Cache => createCache({ tiers: [memoryStore(), l2], coordinator, codec, policy: { ttl: '1h' } })
    const [a, b] = [make(), make()]
    const origin = deferred<typeof big>()
    let loads = 0
    const first = a.getOrSet('k', () => {
      loads++
      return origin.promise
    })
    await new Promise((r) => setTimeout(r, 5))
    const second = b.getOrSet('k', () => {
      loads++
      return { n: -1, text: '' }
    })
    origin.resolve(big)
    expect(await first).toEqual(big)
    expect(await second).toEqual(big)
    expect(loads).toBe(1)
    // What it was handed really was the encoded form.
    expect([...l2.map.values()][0]?.codec).toBeDefined()
  })
})
