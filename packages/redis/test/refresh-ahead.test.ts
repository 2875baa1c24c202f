// Refresh-ahead across servers on a real redis-server: with redisCoordinator and a shared redisStore, a hot key
// that every server reads past its refresh point is refreshed by one of them only; the others take the new entry
// from Redis. Servers here are caches with their own clients and L1s (bus off: the lock alone must do it).
import { createCache, memoryStore, refreshAhead, type Cache } from '@tiercache/core'
import { describe, expect, it } from 'vitest'
import { redisCoordinator, redisStore } from '../src/index.js'
import { redisClients } from './fixtures/redis-clients.js'

const prefix = `ra${process.pid}:`
const redis = redisClients(prefix)

async function until(done: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 30_000
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('refresh-ahead with redisCoordinator', () => {
  it('three servers reading a hot key past its refresh point run one refresh between them', async () => {
    let t = Date.now()
    const now = (): number => t
    const server = async (): Promise<Cache> => {
      const client = redis({ enableOfflineQueue: false, maxRetriesPerRequest: 1 })
      client.on('error', () => {})
      await new Promise((resolve) => client.once('ready', resolve))
      const coordinator = redisCoordinator({ client, prefix, bus: false, now })
      return createCache({
        tiers: [memoryStore(), redisStore({ client, coordinator, prefix: `${prefix}v:`, now })],
        coordinator,
        strategies: [refreshAhead()],
        policy: { ttl: '100s', refreshAhead: 0.8 },
        now,
        // Far longer than the test needs: a waiter must find the entry, never give up and load itself.
        lockWait: '20s',
      })
    }
    const servers = [await server(), await server(), await server()]
    let runs = 0
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    const load = async (): Promise<{ run: number }> => {
      const run = ++runs
      if (run > 1) await held // the refresh stays in flight until every server has tried its own
      return { run }
    }
    for (const cache of servers) {
      expect(await cache.getOrSet('price', load)).toEqual({ run: 1 }) // the first loads, the others read Redis
      await cache.idle()
    }
    expect(runs).toBe(1)

    t += 85_000 // past 80 % of the ttl: the next reads of this hot key are due for a refresh
    let idle = 0
    const settled = servers.map(async (cache) => {
      expect(await cache.getOrSet('price', load)).toEqual({ run: 1 })
      expect(await cache.getOrSet('price', load)).toEqual({ run: 1 }) // answered at once, refresh in the background
      await cache.idle()
      idle++
    })
    // Two servers find the lock taken and keep their fresh entry; the one holding it waits for its loader.
    await until(() => idle === 2, 'two servers to settle their refresh attempts')
    expect(runs).toBe(2)
    release()
    await Promise.all(settled)
    expect(runs).toBe(2) // the first load and one refresh across the three servers
    expect(servers.reduce((sum, cache) => sum + cache.stats().refreshes, 0)).toBeGreaterThanOrEqual(3)

    // The next due read of each server takes the refreshed entry from Redis instead of loading.
    for (const cache of servers) {
      await cache.getOrSet('price', load)
      await cache.idle()
      expect(await cache.getOrSet('price', load)).toEqual({ run: 2 })
    }
    expect(runs).toBe(2)
  })
})
