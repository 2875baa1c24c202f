// Upstash round trips per request kind with the full edge tiers (Cache API L1, Upstash L2, upstashCoordinator),
// counted by the endpoint: an L1 hit makes none, an L1 miss one before deciding.
import type { Cache } from '@tiercache/core'
import { describe, expect, it } from 'vitest'
import { edgeIsolate, manualClock, resetStats, statsOf, withOwnEndpoint, type OwnEndpoint } from '../support/services'

let endpoint: OwnEndpoint
withOwnEndpoint((own) => {
  endpoint = own
})

const clock = manualClock()

/** One isolate with the edge tiers: a Cache API cache of its own, its own client and coordinator. */
function isolate(): Cache {
  return edgeIsolate(endpoint, { now: clock.now, tagCacheTtl: '5s', policy: { ttl: '1h', swr: '1h', tags: ['catalog', 'product:9'] } }).cache
}

async function requests(): Promise<number> {
  return (await statsOf(endpoint)).requests
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now()
  const value = await work()
  return [value, performance.now() - t0]
}

describe('Upstash round trips per request kind', () => {
  it('full miss: one read that takes the lock before the origin; one write that releases it in the background', async () => {
    const cache = isolate()
    let beforeOrigin = -1
    const [value, ms] = await timed(() =>
      cache.getOrSet('p9', async () => {
        beforeOrigin = await requests()
        return { id: 9 }
      }),
    )
    expect(value).toEqual({ id: 9 })
    // 1 EVAL (entry + tag stamps: miss, so the same script takes the lock).
    expect(beforeOrigin).toBe(1)
    await cache.idle()
    const stats = await statsOf(endpoint)
    // + 1 EVAL (write the entry, release the lock, hand it to waiters, read its tag stamps).
    expect(stats.byCommand).toEqual({ EVAL: 2 })
    expect(stats.requests).toBe(2)
    console.log(`[round trips] full miss: ${beforeOrigin} before the origin, ${stats.requests} in all (${JSON.stringify(stats.byCommand)}); ${ms.toFixed(1)} ms`)
  })

  it('L1 hit: no Redis request (tag times known from the fill)', async () => {
    const cache = isolate()
    await cache.getOrSet('p9', () => ({ id: 9 }))
    await cache.idle()
    await resetStats(endpoint)
    const [value, ms] = await timed(() => cache.getOrSet('p9', () => 'origin must not run'))
    expect(value).toEqual({ id: 9 })
    expect(await requests()).toBe(0)
    const samples: number[] = []
    for (let i = 0; i < 50; i++) samples.push((await timed(() => cache.getOrSet('p9', () => 'no')))[1])
    expect(await requests()).toBe(0)
    samples.sort((x, y) => x - y)
    console.log(`[round trips] L1 hit: 0 requests; first ${ms.toFixed(2)} ms, median of 50 ${samples[25]!.toFixed(2)} ms`)
  })

  it('L1 miss, L2 hit, in an isolate that never saw the tags: exactly one request (entry and tag times together)', async () => {
    const writer = isolate()
    await writer.getOrSet('p9', () => ({ id: 9 }))
    await writer.idle()
    const reader = isolate()
    await resetStats(endpoint)
    const [value, ms] = await timed(() => reader.getOrSet('p9', () => 'origin must not run'))
    expect(value).toEqual({ id: 9 })
    // getOrSet's read would take the lock on a miss: EVAL (lockInRead: false reads with EVAL_RO).
    expect(await statsOf(endpoint)).toMatchObject({ requests: 1, byCommand: { EVAL: 1 } })
    // Filling its L1 costs no Redis request either.
    await reader.idle()
    expect(await requests()).toBe(1)
    expect(reader.stats().tiers.map((t) => t.hits)).toEqual([0, 1])
    expect(reader.stats().tiers[0]!.fills).toBe(1)
    console.log(`[round trips] L1 miss + L2 hit (cold tags): 1 request; ${ms.toFixed(1)} ms`)
  })

  it('L1 hit once the tag copy is older than tagCacheTtl: one MGET, then none again', async () => {
    const cache = isolate()
    await cache.getOrSet('p9', () => ({ id: 9 }))
    await cache.idle()
    clock.advance(5_000)
    await resetStats(endpoint)
    await cache.getOrSet('p9', () => 'no')
    expect(await statsOf(endpoint)).toMatchObject({ requests: 1, byCommand: { MGET: 1 } })
    await cache.getOrSet('p9', () => 'no')
    expect(await requests()).toBe(1)
  })

  it('stale within swr: answered from L1 at once; the refresh (lock, origin, write, release) runs in the background', async () => {
    const cache = isolate()
    let version = 0
    const load = (): { v: number } => ({ v: ++version })
    await cache.getOrSet('p9', load)
    await cache.idle()
    clock.advance(3_600_000)
    await resetStats(endpoint)
    expect(await cache.getOrSet('p9', load)).toEqual({ v: 1 })
    await cache.idle()
    expect(version).toBe(2)
    const stats = await statsOf(endpoint)
    console.log(`[round trips] swr refresh in the background: ${stats.requests} requests (${JSON.stringify(stats.byCommand)})`)
    expect(await cache.getOrSet('p9', load)).toEqual({ v: 2 })
  })

  it('getManyOrSet: one L2 request for all the keys L1 misses', async () => {
    const writer = isolate()
    await writer.getManyOrSet(['m1', 'm2', 'm3'], (keys) => keys.map((k) => k.toUpperCase()))
    await writer.idle()
    const reader = isolate()
    await resetStats(endpoint)
    expect(await reader.getManyOrSet(['m1', 'm2', 'm3'], () => ['x', 'y', 'z'])).toEqual(['M1', 'M2', 'M3'])
    expect(await statsOf(endpoint)).toMatchObject({ requests: 1, byCommand: { EVAL_RO: 1 } })
  })
})
