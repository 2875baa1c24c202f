// Two isolates (two caches, each with its own memory L1 and upstashCoordinator) on one Upstash endpoint over a real
// redis-server, after an invalidation: isolate A refreshes (holds the lock, its loader gated) while isolate B reads
// the old entry from Upstash. B's answer is held (a slow network) until A has written the new entry and released
// the lock, so B decides only after A's refresh ended. B must not load again: its read saw A holding the lock, and it
// gets A's entry from the hand-over (issue 13). And after a hard invalidation, an isolate that read the dead entry
// sends no delete that could land after another isolate wrote the key anew. Forced by gates, not by timing.
import { createCache, memoryStore, type Cache, type Policy } from '@tiercache/core'
import { describe, expect, it } from 'vitest'
import { upstashStore } from '../../src/index'
import { holdable, lateDeleteRace, refreshRace, type Holds } from '../support/holds'
import { patientCoordinator, redisFor, resetStats, statsOf, withOwnEndpoint, type OwnEndpoint } from '../support/services'

let endpoint: OwnEndpoint
withOwnEndpoint((own) => {
  endpoint = own
})

const policy: Policy = { ttl: '1h', swr: '1h', tags: ['prices'] }

/** One isolate: its own memory L1, client and upstashCoordinator; its Upstash tier wrapped so that a test can hold it. */
function isolate(holds: Holds = {}): Cache {
  const redis = redisFor(endpoint)
  const coordinator = patientCoordinator({ redis })
  const l2 = upstashStore({ redis, coordinator })
  const held = holdable(l2, holds, true)
  return createCache({ tiers: [memoryStore(), held], coordinator, policy, tierTimeout: '10s', lockWait: '4s' })
}

describe('two isolates on one Upstash (L2 and coordinator) after an invalidation', () => {
  for (const mode of ['soft', 'hard'] as const) {
    it(`${mode}: an isolate whose read saw another one refreshing gets its entry and loads nothing`, async () => {
      const bHolds: Holds = {}
      const a = isolate()
      const b = isolate(bHolds)
      const race = await refreshRace(mode, a, b, bHolds, () => resetStats(endpoint))
      expect(race.first).toBe('v1')
      expect(race.a).toBe(mode === 'soft' ? 'v1' : 'v2')
      expect(race.loadsAfterA).toBe(2)
      expect(race.b).toBe(mode === 'soft' ? 'v1' : 'v2')
      const stats = await statsOf(endpoint)
      console.log(`[upstash cross-isolate ${mode}] loads ${race.loads()}; B's requests from its read on ${JSON.stringify(stats.byCommand)}`)
      // One refresh in all: B got A's entry, handed over.
      expect(race.loads()).toBe(2)
      expect(b.stats().lockWaits).toBe(1)
      expect(await b.getOrSet('p', race.load)).toBe('v2')
      expect(await a.getOrSet('p', race.load)).toBe('v2')
      expect(race.loads()).toBe(2)
    })
  }

  it('hard: an isolate that read the dead entry deletes nothing behind another that loaded the key meanwhile', async () => {
    const bHolds: Holds = {}
    const [a, b, c] = [isolate(), isolate(bHolds), isolate()]
    await resetStats(endpoint)
    const race = await lateDeleteRace(a, b, bHolds, c)
    expect(race.b).toBeUndefined()
    // A third isolate is served A's entry from Upstash: one load after the invalidation, none more.
    expect(race.c).toBe('v2')
    expect(race.loads).toBe(2)
    expect((await statsOf(endpoint)).byCommand.DEL).toBeUndefined()
  })

  it('costs: a miss 2 requests, a fresh L2 hit 1, a fresh L1 hit none; a fresh hit during a refresh adds no request', async () => {
    const redis = redisFor(endpoint)
    /** Commands Redis ran (inside scripts too), from INFO commandstats, without the INFO calls themselves. */
    const ran = async (): Promise<Record<string, number>> => {
      const info = String(await redis.exec(['INFO', 'commandstats']))
      const out: Record<string, number> = {}
      for (const [, name, calls] of info.matchAll(/cmdstat_([a-z_|]+):calls=(\d+)/g)) if (name !== 'info') out[name as string] = Number(calls)
      return out
    }
    const measure = async (what: string, run: () => Promise<unknown>): Promise<{ requests: number; inner: number }> => {
      await resetStats(endpoint)
      const before = await ran()
      await run()
      const after = await ran()
      const stats = await statsOf(endpoint)
      const delta = Object.entries(after)
        .map(([name, calls]) => [name, calls - (before[name] ?? 0)] as const)
        .filter(([name, calls]) => calls > 0 && !name.startsWith('eval'))
      const inner = delta.reduce((sum, [, calls]) => sum + calls, 0)
      // Without the two INFO requests of this measure.
      const requests = stats.requests - 2
      const { INFO, ...byCommand } = stats.byCommand
      console.log(`[upstash costs] ${what}: ${requests} requests ${JSON.stringify(byCommand)}; commands run inside them ${inner} ${JSON.stringify(Object.fromEntries(delta))}`)
      return { requests, inner }
    }
    // Scripts known to Redis first (EVALSHA falls back to EVAL once).
    const warm = isolate()
    await warm.getOrSet('warm', () => 'w')
    await warm.idle()
    const a = isolate()
    const miss = await measure('full miss', async () => {
      await a.getOrSet('c', () => 'v1')
      await a.idle()
    })
    expect(miss.requests).toBe(2)
    expect((await measure('fresh L2 hit', () => isolate().getOrSet('c', () => 'never'))).requests).toBe(1)
    expect((await measure('fresh L1 hit', () => a.getOrSet('c', () => 'never'))).requests).toBe(0)
    // While another isolate holds the key's lock (a load, a refresh), a fresh hit registers as a waiter inside its one
    // read (the script cannot tell fresh from stale): no request more; the holder hands a copy nobody takes.
    const holder = await patientCoordinator({ redis }).lock?.(':c', 10_000)
    expect(holder).toBeDefined()
    expect((await measure('fresh L2 hit while the lock is held', () => isolate().getOrSet('c', () => 'never'))).requests).toBe(1)
    await measure('release of that lock', () => (holder as NonNullable<typeof holder>).release())
  })
})
