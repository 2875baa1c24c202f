import type { StandardSchemaV1 } from '@standard-schema/spec'
import { describe, expect, it } from 'vitest'
import { createCache } from '../cache.js'
import { memoryCoordinator } from '../coordinator.js'
import type { Entry } from '../entry.js'
import type { Policy } from '../policy.js'
import type { CacheEvent } from '../stats.js'
import type { Store } from '../store.js'
import { memoryStore } from '../stores/memory.js'
import { deferred, manualClock, ScriptedStore } from '../test-support/helpers.js'

/** An L1 memory store and an L2 ScriptedStore over a manual clock, recording read events (hit, stale, miss, fill). */
function twoTiers() {
  const clock = manualClock()
  const l1 = memoryStore({ name: 'l1' })
  const l2 = new ScriptedStore('l2')
  const events: string[] = []
  const cache = createCache({
    tiers: [l1, l2],
    now: clock.now,
    policy: { ttl: 1000, swr: 10_000, staleIfError: 60_000 },
    onEvent: (e: CacheEvent) => {
      if (e.type === 'hit' || e.type === 'stale' || e.type === 'miss' || e.type === 'fill') events.push(`${e.type} ${e.key} ${e.tier}`)
    },
  })
  const entry = (value: string, createdAt: number, fresh: number, stale = fresh, error?: number): Entry => ({
    value,
    createdAt,
    freshUntil: createdAt + fresh,
    staleUntil: createdAt + stale,
    ...(error === undefined ? {} : { errorUntil: createdAt + error }),
  })
  return { cache, clock, l1, l2, events, entry }
}

describe('one classification for single-key and batch reads', () => {
  it('getManyOrSet reports per key and tier the hit, stale answer or miss that getOrSet reports', async () => {
    const runs: string[][] = []
    for (const batch of [false, true]) {
      const { cache, clock, l1, l2, events, entry } = twoTiers()
      const t = clock.now()
      l1.write(':fresh-l1', entry('A', t, 1000))
      l2.map.set(':fresh-l2', entry('B', t, 1000))
      l1.write(':stale-l1', entry('C', t - 2000, 1000, 5000))
      const keys = ['fresh-l1', 'fresh-l2', 'stale-l1', 'nowhere']
      const loaded = (key: string) => `${key}!`
      const values = batch
        ? await cache.getManyOrSet(keys, (missing) => missing.map(loaded))
        : await Promise.all(keys.map((key) => cache.getOrSet(key, () => loaded(key))))
      expect(values).toEqual(['A', 'B', 'C', 'nowhere!'])
      await cache.idle()
      runs.push([...events].sort())
      expect(cache.stats()).toMatchObject({ hits: 2, staleHits: 1, misses: 1 })
      expect(cache.stats().tiers.map((tier) => tier.misses)).toEqual([2, 1])
    }
    expect(runs[1]).toEqual(runs[0])
    expect(runs[1]).toEqual(
      ['fill fresh-l2 l1', 'hit fresh-l1 l1', 'hit fresh-l2 l2', 'miss fresh-l2 l1', 'miss nowhere l1', 'miss nowhere l2', 'stale stale-l1 l1'].sort(),
    )
  })

  it('both serve the NEWEST error-stale entry of any tier when the loader fails', async () => {
    for (const batch of [false, true]) {
      const { clock, l2, entry } = twoTiers()
      const l1 = new ScriptedStore('l1')
      const cache = createCache({ tiers: [l1, l2], now: clock.now, policy: { ttl: 1000, staleIfError: 60_000 } })
      const t = clock.now()
      // Both past their swr window, within staleIfError: usable only if the load fails. L2's is the newer one.
      l1.map.set(':k', entry('older', t - 9000, 1000, 1000, 60_000))
      l2.map.set(':k', entry('newer', t - 5000, 1000, 1000, 60_000))
      const boom = new Error('origin down')
      const value = batch ? (await cache.getManyOrSet(['k'], () => Promise.reject(boom)))[0] : await cache.getOrSet('k', () => Promise.reject(boom))
      expect(value).toBe('newer')
      expect(cache.stats()).toMatchObject({ staleHits: 1, misses: 0 })
      expect(cache.stats().tiers.map((tier) => tier.staleHits)).toEqual([0, 1])
    }
  })
})

/**
 * Process B's view of `shared`: its writes and deletes arrive only after `land()` (a slow request, say); `sent()`
 * counts them.
 */
function slowView(shared: Store): { store: Store; land(): void; sent(): number } {
  const landed = deferred<void>()
  let sent = 0
  const late = async (write: () => Promise<void>): Promise<void> => {
    sent++
    await landed.promise
    await write()
  }
  return {
    store: { name: shared.name, get: (key) => shared.get(key), set: (key, entry) => late(() => shared.set(key, entry)), delete: (key) => late(() => shared.delete(key)) },
    land: () => landed.resolve(),
    sent: () => sent,
  }
}

describe('a dead entry read from a shared tier', () => {
  // Dead by a hard invalidation of its tag, or by policy.schema (written by another version of the app, no migrate).
  const textOnly: StandardSchemaV1<string> = {
    '~standard': { version: 1, vendor: 'test', validate: (value) => (typeof value === 'string' ? { value } : { issues: [{ message: 'must be text' }] }) },
  }
  for (const dead of ['killed by its tag', 'of an older shape'] as const) {
    it(`${dead}: is left for its store to expire; a late delete would remove the entry another process loaded meanwhile`, async () => {
      const clock = manualClock()
      const coordinator = memoryCoordinator({ now: clock.now })
      const shared = new ScriptedStore('l2')
      const late = slowView(shared)
      const policy: Policy = { ttl: '1m', tags: ['t'], ...(dead === 'of an older shape' ? { schema: textOnly } : {}) }
      const process = (l2: Store) => createCache({ tiers: [memoryStore({ name: 'l1' }), l2], coordinator, now: clock.now, policy })
      const [a, b, c] = [process(shared), process(late.store), process(shared)]
      let loads = 0
      const loader = () => `v${++loads}`
      if (dead === 'killed by its tag') {
        await a.set('k', 'v0')
        await a.idle()
        await a.invalidateTags(['t'])
      } else await createCache({ tiers: [shared], now: clock.now, policy: { ttl: '1m' } }).set('k', 0) // the older version stored a number

      expect(await b.get('k')).toBeUndefined() // B finds the dead entry
      expect(await a.getOrSet('k', loader)).toBe('v1') // A loads while B's read is being answered
      await a.idle()
      late.land() // a delete B sent for it lands now
      await b.idle()

      expect(await c.getOrSet('k', loader)).toBe('v1') // a third process is served A's entry
      expect(loads).toBe(1)
      expect(c.stats().tiers.map((tier) => tier.hits)).toEqual([0, 1])
      expect(late.sent()).toBe(0) // nor sent at all
    })
  }

  it('of an older shape and migrated: served, and not written back, which could land over what another process wrote meanwhile', async () => {
    const clock = manualClock()
    const shared = new ScriptedStore('l2')
    const late = slowView(shared)
    const policy: Policy = { ttl: '1m', schema: textOnly, migrate: (old: unknown) => `migrated ${String(old)}` }
    const process = (l2: Store) => createCache({ tiers: [memoryStore({ name: 'l1' }), l2], now: clock.now, policy })
    const [a, b, c] = [process(shared), process(late.store), process(shared)]
    await createCache({ tiers: [shared], now: clock.now, policy: { ttl: '1m' } }).set('k', 0) // the older version stored a number

    expect(await b.get('k')).toBe('migrated 0') // B migrates what it read
    await a.set('k', 'new') // A writes the key anew meanwhile
    await a.idle()
    late.land() // a write-back B sent lands now
    await b.idle()

    expect(await c.getOrSet('k', () => 'loaded')).toBe('new') // a third process is served A's value
    expect(late.sent()).toBe(0)
  })
})
