import { describe, expect, it, vi } from 'vitest'
import { createCache } from '../cache.js'
import { memoryStore } from '../stores/memory.js'
import { deferred, flush, manualClock, ScriptedStore } from '../test-support/helpers.js'
import type { ReadStatus } from './status.js'

describe('ctx.skip(): an answer for this caller only', () => {
  it('is returned but stored in no tier', async () => {
    const clock = manualClock()
    const l1 = memoryStore({ name: 'l1' })
    const l2 = new ScriptedStore('l2')
    const cache = createCache({ tiers: [l1, l2], now: clock.now, policy: { ttl: '1m' } })
    const status: ReadStatus = {}
    expect(
      await cache.getOrSet(
        'k',
        (ctx) => {
          ctx.skip()
          return 'private'
        },
        undefined,
        { status },
      ),
    ).toBe('private')
    await cache.idle()
    expect(status).toMatchObject({ state: 'loaded', stored: false })
    expect(l1.size).toBe(0)
    expect(l2.map.size).toBe(0)
    expect(await cache.getOrSet('k', () => 'shared')).toBe('shared')
  })

  for (const tiers of ['one memory tier', 'two tiers'] as const) {
    it(`never reaches callers that joined the load: each runs its own loader (${tiers})`, async () => {
      const clock = manualClock()
      const cache = createCache({
        tiers: tiers === 'one memory tier' ? [memoryStore()] : [memoryStore(), new ScriptedStore('l2')],
        now: clock.now,
        policy: { ttl: '1m' },
      })
      const gate = deferred<string>()
      const owner = cache.getOrSet('page', async (ctx) => {
        const body = await gate.promise
        ctx.skip()
        return body
      })
      await flush()
      const joiners = [1, 2, 3].map((n) => {
        const status: ReadStatus = {}
        return { status, answer: cache.getOrSet('page', () => `own ${n}`, undefined, { status }) }
      })
      const plain = cache.getOrSet('page', () => 'own plain')
      await flush()
      gate.resolve('for the owner only (Set-Cookie)')
      expect(await owner).toBe('for the owner only (Set-Cookie)')
      expect(await Promise.all(joiners.map((j) => j.answer))).toEqual(['own 1', 'own 2', 'own 3'])
      expect(await plain).toBe('own plain')
      expect(joiners[0]?.status).toMatchObject({ state: 'loaded', collapsed: false })
      await cache.idle()
    })
  }

  it('sends getManyOrSet keys that joined a skipped load to one loadMany of their own', async () => {
    const cache = createCache({ tiers: [memoryStore(), new ScriptedStore('l2')], policy: { ttl: '1m' } })
    const gate = deferred<string>()
    const single = cache.getOrSet('a', async (ctx) => {
      const value = await gate.promise
      ctx.skip()
      return value
    })
    await flush()
    const loadMany = vi.fn((keys: string[]) => keys.map((k) => `${k} from batch`))
    const many = cache.getManyOrSet(['a', 'b'], loadMany)
    await flush(20)
    gate.resolve('private a')
    expect(await single).toBe('private a')
    expect(await many).toEqual(['a from batch', 'b from batch'])
    expect(loadMany.mock.calls.map((call) => call[0])).toEqual([['b'], ['a']])
  })
})

describe('ctx.fail(error): no stale value answers in its place', () => {
  it('rejects with the error where a plain throw would be answered stale-if-error', async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore(), new ScriptedStore('l2')], now: clock.now, policy: { ttl: 1000, staleIfError: 60_000 } })
    await cache.set('k', 'old')
    clock.advance(2000)
    const down = new Error('origin down')
    expect(await cache.getOrSet('k', () => Promise.reject(down))).toBe('old')
    // Past the refresh backoff of that failure (at most 1.25 s), the loader runs again.
    clock.advance(1250)
    const gone = new Error('gone for good')
    await expect(cache.getOrSet('k', (ctx) => ctx.fail(gone))).rejects.toBe(gone)
    await expect(
      cache.getOrSet('k', async (ctx) => {
        await flush()
        return ctx.fail(gone)
      }),
    ).rejects.toBe(gone)
  })
})

describe('forceFresh', () => {
  it('runs the loader although a fresh value is cached, and stores its answer', async () => {
    const cache = createCache({ tiers: [memoryStore(), new ScriptedStore('l2')], policy: { ttl: '1h' } })
    await cache.set('k', 'cached')
    const status: ReadStatus = {}
    expect(await cache.getOrSet('k', () => 'reloaded', undefined, { forceFresh: true, status })).toBe('reloaded')
    expect(status).toMatchObject({ state: 'loaded', stored: true })
    await cache.idle()
    expect(await cache.getOrSet('k', () => 'never')).toBe('reloaded')
  })

  it('does not join the load already running, whose answer is older', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1h' } })
    const slow = deferred<string>()
    const first = cache.getOrSet('k', () => slow.promise)
    const forced = cache.getOrSet('k', () => 'newer', undefined, { forceFresh: true })
    expect(await forced).toBe('newer')
    slow.resolve('older')
    expect(await first).toBe('older')
    await cache.idle()
    expect(await cache.get('k')).toBe('newer')
  })
})
