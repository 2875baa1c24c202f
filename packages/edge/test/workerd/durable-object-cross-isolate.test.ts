// The cross-isolate race of upstash-cross-isolate.test.ts with durableObjectCoordinator and a Workers KV L2: isolate A
// refreshes after an invalidation (holds the object's lock, its loader gated) while isolate B reads the old entry from
// KV; B's answer is held until A has written the new entry, shared it and released. And the late-delete race of that
// file: after a hard invalidation, a reader of the dead entry deletes nothing. Forced by gates, not by timing.
import { createCache, memoryStore, type Cache, type Policy } from '@tiercache/core'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { durableObjectCoordinator, kvStore } from '../../src/index'
import { gate, holdable, lateDeleteRace, refreshRace, until, type Holds } from '../support/holds'
import { unique } from '../support/services'

const policy: Policy = { ttl: '1h', swr: '1h', tags: ['prices'] }

function isolate(prefix: string, kvPrefix: string, holds: Holds = {}): Cache {
  const coordinator = durableObjectCoordinator({ namespace: env.TIERCACHE, prefix, timeout: '10s' })
  const l2 = kvStore({ namespace: env.TEST_KV, prefix: kvPrefix, coordinator })
  const held = holdable(l2, holds)
  return createCache({ tiers: [memoryStore(), held], coordinator, policy, tierTimeout: '10s', lockWait: '10s' })
}

describe('two isolates on KV + the Durable Object coordinator after an invalidation', () => {
  for (const mode of ['soft', 'hard'] as const) {
    it(`${mode}: an isolate that read the old entry while another refreshed loads nothing more`, async () => {
      const prefix = `${unique(`race-${mode}`)}:`
      const kvPrefix = `${unique(`race-kv-${mode}`)}:`
      const bHolds: Holds = {}
      const a = isolate(prefix, kvPrefix)
      const b = isolate(prefix, kvPrefix, bHolds)
      const race = await refreshRace(mode, a, b, bHolds)
      expect(race.first).toBe('v1')
      console.log(`[do cross-isolate ${mode}] loads ${race.loads()}`)
      // One refresh in all: B's lock request brought the (older) copy it had read, the object answered A's entry.
      expect(race.loads()).toBe(2)
      expect(b.stats().lockWaits).toBe(1)
      expect(await b.getOrSet('p', race.load)).toBe('v2')
      expect(race.loads()).toBe(2)
    })
  }

  it('hard: an isolate that read the dead entry deletes nothing behind another that loaded the key meanwhile', async () => {
    const prefix = `${unique('late-delete')}:`
    const kvPrefix = `${unique('late-delete-kv')}:`
    const bHolds: Holds = {}
    const race = await lateDeleteRace(isolate(prefix, kvPrefix), isolate(prefix, kvPrefix, bHolds), bHolds, isolate(prefix, kvPrefix))
    expect(race.b).toBeUndefined()
    // A third isolate is served A's entry from KV: one load after the invalidation, none more.
    expect(race.c).toBe('v2')
    expect(race.loads).toBe(2)
  })

  it('after a later invalidation, readers of the shared entry itself take the lock as before: one load for two isolates', async () => {
    const prefix = `${unique('race-later')}:`
    const kvPrefix = `${unique('race-later-kv')}:`
    const a = isolate(prefix, kvPrefix)
    const b = isolate(prefix, kvPrefix)
    let loads = 0
    const loader = gate()
    const load = async (): Promise<number> => {
      const n = ++loads
      await loader.opened
      return n
    }
    loader.open()
    expect(await a.getOrSet('q', load)).toBe(1)
    await a.idle()
    // A refresh shares entry 2 (kept by the object after its release), then a hard invalidation kills it.
    await a.invalidateTags(['prices'], { mode: 'soft' })
    expect(await a.getOrSet('q', load)).toBe(1)
    await a.idle()
    expect(loads).toBe(2)
    await a.invalidateTags(['prices'])
    await b.invalidateTags(['other'])
    const blocked = gate()
    const held = async (): Promise<number> => {
      const n = ++loads
      await blocked.opened
      return n
    }
    const answers = [a.getOrSet('q', held), b.getOrSet('q', held)]
    await until(() => loads === 3)
    blocked.open()
    expect(await Promise.all(answers)).toEqual([3, 3])
    await Promise.all([a.idle(), b.idle()])
    expect(loads).toBe(3)
  })
})
