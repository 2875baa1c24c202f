import { describe, expect, it } from 'vitest'
import { createCache } from '../cache.js'
import { namespacePrefix } from '../keys.js'
import { memoryStore } from '../stores/memory.js'
import { slidingExpiry } from './sliding.js'
import { flush, manualClock, ScriptedStore } from '../test-support/helpers.js'

const stored = (key: string): string => namespacePrefix('') + key
const MINUTE = 60_000

function setup(policy = { ttl: '30m', sliding: true, maxAge: '2h' } as const) {
  const clock = manualClock()
  const l1 = memoryStore()
  const l2 = new ScriptedStore('l2')
  const cache = createCache({ tiers: [l1, l2], policy, now: clock.now, strategies: [slidingExpiry()] })
  let loads = 0
  const load = () => ({ user: 'ada', session: ++loads })
  return { clock, l1, l2, cache, load, loads: () => loads }
}

describe('sliding expiry (policy.sliding)', () => {
  it('extends an entry read before it expires, in every tier, and lets an unread one expire', async () => {
    const { clock, l1, l2, cache, load, loads } = setup()
    await cache.getOrSet('session:1', load)
    await cache.getOrSet('session:2', load)
    const created = clock.now()
    // Read session:1 every 20 minutes for 80 minutes: each read moves its expiry to 30 minutes later.
    for (let t = 20; t <= 80; t += 20) {
      clock.set(created + t * MINUTE)
      expect(await cache.getOrSet('session:1', load)).toEqual({ user: 'ada', session: 1 })
      await cache.idle()
      expect(l1.getSync(stored('session:1'))?.freshUntil).toBe(clock.now() + 30 * MINUTE)
      expect(l2.map.get(stored('session:1'))?.freshUntil).toBe(clock.now() + 30 * MINUTE)
    }
    expect(loads()).toBe(2)
    // session:2, unread, expired 30 minutes after it was written.
    expect(await cache.getOrSet('session:2', load)).toEqual({ user: 'ada', session: 3 })
  })

  it('writes at most once per key per tenth of the ttl, never once per read', async () => {
    const { clock, l2, cache, load } = setup()
    for (let i = 0; i < 20; i++) await cache.getOrSet(`s:${i}`, load)
    await cache.idle()
    const writes = () => l2.calls.set + l2.calls.setMany
    const start = writes()
    clock.advance(2 * MINUTE) // under 3 minutes (a tenth of 30): worth no write
    for (let i = 0; i < 20; i++) await cache.getOrSet(`s:${i}`, load)
    await cache.idle()
    expect(writes()).toBe(start)
    clock.advance(2 * MINUTE)
    for (let i = 0; i < 20; i++) await cache.getOrSet(`s:${i}`, load)
    await cache.idle()
    const afterFirstRound = writes()
    expect(afterFirstRound - start).toBeGreaterThan(0)
    expect(afterFirstRound - start).toBeLessThanOrEqual(20)
    // Four more rounds within the same 3 minutes: no more writes.
    for (let round = 0; round < 4; round++) for (let i = 0; i < 20; i++) await cache.getOrSet(`s:${i}`, load)
    await cache.idle()
    expect(writes()).toBe(afterFirstRound)
    expect(l2.map.get(stored('s:7'))?.freshUntil).toBe(clock.now() + 30 * MINUTE)
  })

  it('without a synchronous L1, reads that keep finding the old entry touch it once per tenth of the ttl, and a write lifts that', async () => {
    const clock = manualClock()
    // The only tier is async and ignores touches (as a slow tier, one whose write is still on its way, or one that
    // drops it would): every read below finds the entry as cache.set wrote it.
    const tier = new ScriptedStore('only')
    let touches = 0
    tier.setMany = async () => {
      touches++
    }
    const cache = createCache({ tiers: [tier], policy: { ttl: '30m', sliding: true, maxAge: '2h' }, now: clock.now, strategies: [slidingExpiry()] })
    await cache.set('session:1', { user: 'ada' })
    const setsBefore = tier.calls.set
    const read = async (): Promise<void> => {
      expect(await cache.get('session:1')).toEqual({ user: 'ada' })
      await cache.idle() // each read in a turn of its own: its touch went out before the next read
    }
    clock.advance(10 * MINUTE)
    for (let i = 0; i < 50; i++) await read()
    expect(touches).toBe(1)
    // Past a tenth of the ttl (3 minutes) after that touch: one more, then none again within the next 3 minutes.
    clock.advance(3 * MINUTE)
    for (let i = 0; i < 50; i++) await read()
    expect(touches).toBe(2)
    clock.advance(2 * MINUTE)
    for (let i = 0; i < 10; i++) await read()
    expect(touches).toBe(2)
    expect(tier.calls.set).toBe(setsBefore) // touches go out through setMany only
    // The key is rewritten, here with a 5-minute ttl: fresh until 5 minutes from now, well before the 30 minutes the
    // last touch sent (2 minutes ago). The next read extends it at once; the memory of that touch does not hold it back.
    await cache.set('session:1', { user: 'ada' }, { ttl: '5m' })
    clock.advance(MINUTE / 2)
    await read()
    expect(touches).toBe(3)
    for (let i = 0; i < 10; i++) await read()
    expect(touches).toBe(3)
  })

  it('one turn of reads of many keys goes out as one setMany per async tier', async () => {
    const { clock, l2, cache, load } = setup()
    for (let i = 0; i < 20; i++) await cache.getOrSet(`s:${i}`, load)
    await cache.idle()
    const before = l2.calls.setMany
    clock.advance(10 * MINUTE)
    await Promise.all(Array.from({ length: 20 }, (_, i) => cache.getOrSet(`s:${i}`, load)))
    await cache.idle()
    expect(l2.calls.setMany - before).toBe(1)
    for (let i = 0; i < 20; i++) expect(l2.map.get(stored(`s:${i}`))?.freshUntil).toBe(clock.now() + 30 * MINUTE)
  })

  it('never serves an entry past maxAge after it was written, however often it is read', async () => {
    const { clock, cache, load, loads } = setup()
    await cache.getOrSet('session:1', load)
    const created = clock.now()
    for (let t = 10; t < 120; t += 10) {
      clock.set(created + t * MINUTE)
      expect((await cache.getOrSet('session:1', load))?.session).toBe(1)
      await cache.idle()
    }
    clock.set(created + 120 * MINUTE)
    expect((await cache.getOrSet('session:1', load))?.session).toBe(2)
    expect(loads()).toBe(2)
  })

  it('get() slides too, under the cache policy', async () => {
    const { clock, l1, cache, load } = setup()
    await cache.getOrSet('session:1', load)
    clock.advance(20 * MINUTE)
    expect(await cache.get('session:1')).toEqual({ user: 'ada', session: 1 })
    await cache.idle()
    expect(l1.getSync(stored('session:1'))?.freshUntil).toBe(clock.now() + 30 * MINUTE)
  })

  it('a touch does not bring back an older value over a write that followed the read', async () => {
    const { clock, l1, l2, cache, load } = setup()
    await cache.getOrSet('session:1', load)
    clock.advance(20 * MINUTE)
    const read = cache.getOrSet('session:1', load) // queues a touch of the old value
    await cache.set('session:1', { user: 'ada', session: 'renewed' }) // before the touch goes out
    await read
    await cache.idle()
    await flush()
    expect(l1.getSync(stored('session:1'))?.value).toEqual({ user: 'ada', session: 'renewed' })
    expect(l2.map.get(stored('session:1'))?.value).toEqual({ user: 'ada', session: 'renewed' })
  })

  it('needs the strategy: a policy asking for it without throws, naming what to install', () => {
    expect(() => createCache({ tiers: [memoryStore()], policy: { ttl: '1m', sliding: true } })).toThrow(
      /options\.policy\.sliding needs createCache\({ strategies: \[slidingExpiry\(\)\]/,
    )
    expect(() => createCache({ tiers: [memoryStore()] }).resolvePolicy({ ttl: '1m', sliding: true })).toThrow(TypeError)
  })

  it('validates the policy', () => {
    const cache = createCache({ tiers: [memoryStore()], strategies: [slidingExpiry()] })
    expect(() => cache.resolvePolicy({ ttl: '1m', maxAge: '1h' })).toThrow(/maxAge caps sliding expiry: it needs policy\.sliding: true/)
    expect(() => cache.resolvePolicy({ ttl: '1h', sliding: true, maxAge: '1m' })).toThrow(/must not be shorter than policy\.ttl/)
    expect(() => cache.resolvePolicy({ ttl: 0, sliding: true })).toThrow(/policy\.sliding needs policy\.ttl > 0/)
    expect(() => cache.resolvePolicy({ ttl: '1m', sliding: 'yes' as never })).toThrow(TypeError)
    const base = createCache({ tiers: [memoryStore()], policy: { ttl: '1m', sliding: true, maxAge: '1h' }, strategies: [slidingExpiry()] })
    expect(base.resolvePolicy({ sliding: false })).toMatchObject({ sliding: false, maxAge: 0 })
    expect(base.resolvePolicy({ ttl: '2m' })).toMatchObject({ sliding: true, maxAge: 3_600_000 })
  })
})
