// Refresh-ahead across isolates on the edge tiers (issue 15: "at most one refresh per key cluster-wide when a
// coordinator is present"): three isolates with their own L1 and coordinator client, on an injected clock, sharing
// either an upstashCoordinator and an upstashStore (real @upstash/redis, an endpoint over a real redis-server) or a
// durableObjectCoordinator and a kvStore (miniflare's Durable Objects and Workers KV). A hot key every isolate reads
// past its refresh point is reloaded by one of them; the others take the new entry from it.
import { createCache, memoryStore, refreshAhead, type Cache, type Coordinator, type Store } from '@tiercache/core'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { durableObjectCoordinator, kvStore, upstashStore } from '../../src/index'
import { gate, until } from '../support/holds'
import { manualClock, patientCoordinator, redisFor, unique, withOwnEndpoint, type OwnEndpoint } from '../support/services'

let endpoint: OwnEndpoint
withOwnEndpoint((own) => {
  endpoint = own
})

/** One isolate's coordinator and shared tier, on the test's clock; `shared` names what the isolates share. */
type Shared = (now: () => number, shared: string) => { coordinator: Coordinator; l2: Store }

const setups: [string, Shared][] = [
  [
    'upstashCoordinator + upstashStore',
    (now) => {
      const redis = redisFor(endpoint)
      const coordinator = patientCoordinator({ redis, now })
      return { coordinator, l2: upstashStore({ redis, coordinator, now }) }
    },
  ],
  [
    'durableObjectCoordinator + kvStore',
    (now, shared) => ({
      coordinator: durableObjectCoordinator({ namespace: env.TIERCACHE, prefix: `${shared}:`, now, timeout: '10s' }),
      l2: kvStore({ namespace: env.TEST_KV, prefix: `${shared}:kv:`, now }),
    }),
  ],
]

describe('refresh-ahead across isolates', () => {
  it.each(setups)('%s: three isolates reading a hot key past its refresh point run one refresh between them', async (_, tiers) => {
    const clock = manualClock()
    const shared = unique('refresh-ahead')
    const isolate = (): Cache => {
      const { coordinator, l2 } = tiers(clock.now, shared)
      return createCache({
        tiers: [memoryStore(), l2],
        coordinator,
        strategies: [refreshAhead()],
        policy: { ttl: '100s', refreshAhead: 0.8 },
        now: clock.now,
        tierTimeout: '10s',
        // Far longer than the test needs: a waiter must find the entry, never give up and load itself.
        lockWait: '20s',
      })
    }
    const isolates = Array.from({ length: 3 }, isolate)
    // The first load answers at once; the refresh is held until every isolate has tried its own.
    const refresh = gate()
    let runs = 0
    const load = async (): Promise<{ run: number }> => ({ run: ++runs === 1 ? 1 : await refresh.opened.then(() => runs) })
    // The first isolate loads, the others read the shared tier.
    for (const cache of isolates) expect(await cache.getOrSet('price', load).finally(() => cache.idle())).toEqual({ run: 1 })
    expect(runs).toBe(1)

    clock.advance(85_000) // past 80 % of the ttl: the next reads of this hot key are due for a refresh
    const settled = isolates.map(async (cache) => {
      expect(await cache.getOrSet('price', load)).toEqual({ run: 1 })
      expect(await cache.getOrSet('price', load)).toEqual({ run: 1 }) // answered at once, refresh in the background
      await cache.idle()
    })
    // One isolate holds the lock and runs the loader; the other two find it taken and, in the background, wait for
    // the holder's entry (both coordinators hand it over to their waiters) instead of loading.
    await until(() => runs >= 2, 10_000)
    refresh.open()
    await Promise.all(settled)
    expect(runs).toBe(2) // the first load and one refresh across the three isolates

    // The next due read of each isolate takes the refreshed entry from the shared tier instead of loading.
    for (const cache of isolates) {
      await cache.getOrSet('price', load)
      await cache.idle()
      expect(await cache.getOrSet('price', load)).toEqual({ run: 2 })
    }
    expect(runs).toBe(2)
  })
})
