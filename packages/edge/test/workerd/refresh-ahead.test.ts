// Refresh-ahead across isolates on the edge tiers (issue 15: "at most one refresh per key cluster-wide when a
// coordinator is present"): three isolates with their own L1 and client, an upstashCoordinator and a shared
// upstashStore (real @upstash/redis, an endpoint over a real redis-server), on an injected clock. A hot key every
// isolate reads past its refresh point is reloaded by one of them; the others take the new entry from it.
import { createCache, memoryStore, refreshAhead, type Cache } from '@tiercache/core'
import { describe, expect, it } from 'vitest'
import { upstashStore } from '../../src/index'
import { until } from '../support/holds'
import { manualClock, patientCoordinator, redisFor, withOwnEndpoint, type OwnEndpoint } from '../support/services'

let endpoint: OwnEndpoint
withOwnEndpoint((own) => {
  endpoint = own
})

describe('refresh-ahead with upstashCoordinator', () => {
  it('three isolates reading a hot key past its refresh point run one refresh between them', async () => {
    const clock = manualClock()
    const isolate = (): Cache => {
      const redis = redisFor(endpoint)
      const coordinator = patientCoordinator({ redis, now: clock.now })
      return createCache({
        tiers: [memoryStore(), upstashStore({ redis, coordinator, now: clock.now })],
        coordinator,
        strategies: [refreshAhead()],
        policy: { ttl: '100s', refreshAhead: 0.8 },
        now: clock.now,
        tierTimeout: '10s',
        // Far longer than the test needs: a waiter must find the entry, never give up and load itself.
        lockWait: '20s',
      })
    }
    const isolates = [isolate(), isolate(), isolate()]
    let runs = 0
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    const load = async (): Promise<{ run: number }> => {
      const run = ++runs
      if (run > 1) await held // the refresh stays in flight until every isolate has tried its own
      return { run }
    }
    for (const cache of isolates) {
      expect(await cache.getOrSet('price', load)).toEqual({ run: 1 }) // the first loads, the others read Upstash
      await cache.idle()
    }
    expect(runs).toBe(1)

    clock.advance(85_000) // past 80 % of the ttl: the next reads of this hot key are due for a refresh
    const settled = isolates.map(async (cache) => {
      expect(await cache.getOrSet('price', load)).toEqual({ run: 1 })
      expect(await cache.getOrSet('price', load)).toEqual({ run: 1 }) // answered at once, refresh in the background
      await cache.idle()
    })
    // One isolate holds the lock and runs the loader; the other two find it taken and, in the background, wait for
    // the holder's entry (upstashCoordinator hands it over to its waiters) instead of loading.
    await until(() => runs >= 2, 10_000)
    release()
    await Promise.all(settled)
    expect(runs).toBe(2) // the first load and one refresh across the three isolates

    // The next due read of each isolate takes the refreshed entry from Upstash instead of loading.
    for (const cache of isolates) {
      await cache.getOrSet('price', load)
      await cache.idle()
      expect(await cache.getOrSet('price', load)).toEqual({ run: 2 })
    }
    expect(runs).toBe(2)
  })
})
