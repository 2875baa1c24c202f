import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createCache } from '../cache.js'
import { namespacePrefix } from '../keys.js'
import { memoryStore } from '../stores/memory.js'
import { deferred, flush, ScriptedStore, settledAfter } from '../test-support/helpers.js'
import { hotKeys } from './hot-keys.js'
import { warm, type WarmProgress } from './warm.js'

describe('warm(cache, keys, loader, options)', () => {
  it('loads the keys no tier holds fresh, skips the others, and reports progress after each', async () => {
    const cache = createCache({ tiers: [memoryStore(), new ScriptedStore('l2')], policy: { ttl: '10m' } })
    await cache.set('p:2', 'cached')
    const loaded: string[] = []
    const progress: WarmProgress[] = []
    const result = await warm(cache, ['p:1', 'p:2', 'p:3'], ({ key }) => (loaded.push(key), `loaded ${key}`), {
      concurrency: 1,
      onProgress: (p) => progress.push(p),
    })
    expect(loaded).toEqual(['p:1', 'p:3'])
    expect(result).toEqual({ total: 3, done: 3, loaded: 2, fresh: 1, skipped: 0, failed: 0, errors: [] })
    expect(progress.map((p) => [p.done, p.loaded, p.fresh])).toEqual([
      [1, 1, 0],
      [2, 1, 1],
      [3, 2, 1],
    ])
    expect(await cache.get('p:3')).toBe('loaded p:3')
    expect(cache.stats().misses).toBe(0) // warming is not traffic
  })

  it('runs at most `concurrency` loads at once', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' } })
    let running = 0
    let most = 0
    const gates = Array.from({ length: 10 }, () => deferred<void>())
    const warming = warm(cache, 
      Array.from({ length: 10 }, (_, i) => `k${i}`),
      async ({ key }) => {
        most = Math.max(most, ++running)
        await gates[Number(key.slice(1))]?.promise
        running--
        return key
      },
      { concurrency: 3 },
    )
    for (const gate of gates) {
      await flush()
      gate.resolve()
    }
    expect((await warming).loaded).toBe(10)
    expect(most).toBe(3)
  })

  it('counts a key whose loader said ctx.skip() as skipped: nothing was cached', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' } })
    const result = await warm(cache, ['a', 'private'], (ctx) => {
      if (ctx.key === 'private') ctx.skip() // an answer for one caller only
      return ctx.key
    })
    expect(result).toMatchObject({ loaded: 1, skipped: 1, failed: 0, done: 2 })
    expect(await cache.get('private')).toBeUndefined()
  })

  it('counts and lists failed keys without stopping', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' } })
    const result = await warm(cache, ['a', 'bad', 'c'], ({ key }) => {
      if (key === 'bad') throw new Error('origin said 500')
      return key
    })
    expect(result).toMatchObject({ loaded: 2, failed: 1, done: 3 })
    expect(result.errors.map((e) => [e.key, (e.error as Error).message])).toEqual([['bad', 'origin said 500']])
  })

  it('with batch, calls loadMany with the missing keys of each batch only', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' } })
    await cache.set('k1', 'cached')
    const calls: string[][] = []
    const result = await warm(cache, ['k0', 'k1', 'k2', 'k3', 'k4'], (keys: string[]) => (calls.push(keys), keys.map((k) => `v${k}`)), { batch: 2 })
    expect(calls).toEqual([['k0'], ['k2', 'k3'], ['k4']])
    expect(result).toMatchObject({ loaded: 4, fresh: 1, failed: 0 })
    expect(await cache.get('k3')).toBe('vk3')
  })

  it('counts a key fresh in a lower tier as fresh and copies it into the tiers above', async () => {
    const l1 = memoryStore()
    const l2 = new ScriptedStore('l2')
    const writer = createCache({ tiers: [l2], policy: { ttl: '10m' } })
    await writer.set('p:1', 'from l2')
    const cache = createCache({ tiers: [l1, l2], policy: { ttl: '10m' } })
    const result = await warm(cache, ['p:1'], () => 'loaded')
    expect(result).toMatchObject({ fresh: 1, loaded: 0 })
    await cache.idle()
    expect(l1.getSync(namespacePrefix('') + 'p:1')?.value).toBe('from l2')
  })

  it('is not traffic: no hot keys counted, no hits or misses', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' }, strategies: [hotKeys()] })
    await warm(cache, ['a', 'b'], ({ key }) => key)
    await warm(cache, ['a', 'b'], ({ key }) => key)
    expect(cache.hotKeys(10)).toEqual([])
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0, loads: 2 })
  })

  it("hands its background work to the view's waitUntil", async () => {
    const handed: Promise<unknown>[] = []
    const cache = createCache({ tiers: [memoryStore(), new ScriptedStore('l2')], policy: { ttl: '10m' } })
    await warm(cache.withContext({ waitUntil: (p) => void handed.push(p) }), ['a'], () => 1)
    expect(handed.length).toBeGreaterThan(0)
  })

  it('validates its options', async () => {
    await expect(warm({} as never, ['k'], () => 1)).rejects.toThrow(/cache must be a cache made by createCache\(\)/)
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' } })
    const load = () => 1
    await expect(warm(cache, 'k' as never, load)).rejects.toThrow(/keys must be an array/)
    await expect(warm(cache, ['k'], load, { concurrency: 0 })).rejects.toThrow(/options\.concurrency must be a positive integer/)
    await expect(warm(cache, ['k'], load, { ratePerSecond: -1 })).rejects.toThrow(/options\.ratePerSecond/)
    await expect(warm(cache, ['k'], (() => []) as never, { batch: 1.5 })).rejects.toThrow(/options\.batch/)
    await expect(warm(cache, ['ok', ''], load)).rejects.toThrow(/keys\[1\]/)
    await expect(warm(cache, ['k'], load, { policy: { ttl: -1 } })).rejects.toThrow(/options\.policy\.ttl/)
  })

  describe('with fake timers', () => {
    beforeEach(() => {
      vi.useFakeTimers({ now: 1_700_000_000_000 })
    })
    afterEach(() => {
      vi.useRealTimers()
    })

    it('starts at most ratePerSecond loader calls a second, evenly spaced', async () => {
      const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' }, now: () => Date.now() })
      const starts: number[] = []
      const warming = warm(cache, 
        Array.from({ length: 10 }, (_, i) => `k${i}`),
        ({ key }) => (starts.push(Date.now()), key),
        { concurrency: 4, ratePerSecond: 5 },
      )
      await vi.advanceTimersByTimeAsync(5_000)
      expect((await warming).loaded).toBe(10)
      const t0 = starts[0] as number
      expect(starts.map((t) => t - t0)).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800])
    })

    it('paces before a load is registered: a reader of a key waiting its turn loads it at once', async () => {
      const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' }, now: () => Date.now() })
      const loads: string[] = []
      const warming = warm(cache, ['k0', 'k1', 'k2'], ({ key }) => (loads.push(`warm ${key}`), key), { concurrency: 3, ratePerSecond: 1 })
      await vi.advanceTimersByTimeAsync(10) // k0 loaded; k1 and k2 wait for their turn (1 s, 2 s)
      expect(await cache.getOrSet('k2', ({ key }) => (loads.push(`reader ${key}`), key))).toBe('k2')
      await vi.advanceTimersByTimeAsync(3_000)
      expect(await warming).toMatchObject({ loaded: 2, fresh: 1 }) // k2 was fresh by its turn
      expect(loads).toEqual(['warm k0', 'reader k2', 'warm k1'])
    })

    it('stops starting loads once the signal aborts, and rejects with its reason', async () => {
      const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' }, now: () => Date.now() })
      const controller = new AbortController()
      let loads = 0
      const warming = warm(cache, 
        Array.from({ length: 100 }, (_, i) => `k${i}`),
        ({ key }) => (loads++, key),
        { concurrency: 1, ratePerSecond: 10, signal: controller.signal },
      )
      const settled = warming.catch((error: unknown) => error)
      await vi.advanceTimersByTimeAsync(1_000)
      controller.abort(new Error('user left the page'))
      await vi.advanceTimersByTimeAsync(1_000)
      expect(((await settled) as Error).message).toBe('user left the page')
      expect(loads).toBeGreaterThanOrEqual(10)
      expect(loads).toBeLessThanOrEqual(12)
    })

    it('rejects as soon as the signal aborts, also while waiting its turn under a slow rate', async () => {
      const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' }, now: () => Date.now() })
      const controller = new AbortController()
      let loads = 0
      // One load a minute: the second key waits 60 s for its turn.
      const warming = warm(cache, ['k0', 'k1', 'k2'], ({ key }) => (loads++, key), { concurrency: 1, ratePerSecond: 1 / 60, signal: controller.signal })
      const settled = warming.catch((error: unknown) => error)
      await vi.advanceTimersByTimeAsync(1_000)
      expect(loads).toBe(1)
      controller.abort(new Error('user left the page'))
      // Settled within a few ms of the abort, not at the end of the minute.
      expect(await settledAfter(settled, 120_000, 1)).toBeLessThan(50)
      expect(((await settled) as Error).message).toBe('user left the page')
      expect(loads).toBe(1)
      expect(vi.getTimerCount()).toBe(0) // no timer left waiting out the minute
    })
  })
})
