// The server setups the root README shows, type-checked and run by test/setups.test.ts.
import { createCache, memoryStore } from '@tiercache/core'
import { memcachedStore } from '@tiercache/memcached'
import { redisCoordinator, redisStore } from '@tiercache/redis'
import { Redis } from 'ioredis'
import memjs from 'memjs'

/** Memory L1 + a Redis Cluster L2: the same stores on a Cluster client (tags share the {tags} slot). */
export function clusterCache(nodes: { host: string; port: number }[]) {
  const client = new Redis.Cluster(nodes, {
    enableOfflineQueue: false,
    redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 1_000 },
  })
  const l1 = memoryStore({ maxEntries: 10_000 })
  const coordinator = redisCoordinator({ client, bus: { local: [l1] } })
  const cache = createCache({
    tiers: [l1, redisStore({ client, coordinator })], // one pipeline per node for a batch; a node down is a miss
    coordinator,
    policy: { ttl: '5m', swr: '1m' },
  })
  return { cache, close: () => (coordinator.close(), client.disconnect()) }
}

/** Memory L1 + Memcached L2; Memcached has no tags or locks, so Redis coordinates them. */
export function memcachedCache(memcachedServers: string, redisUrl: string) {
  const memcached = memjs.Client.create(memcachedServers, { timeout: 0.5, retries: 1 })
  const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  // A short maxTtl: only tag invalidations travel on the bus here, a set elsewhere reaches this L1 within 10 s.
  const l1 = memoryStore({ maxEntries: 10_000, maxTtl: '10s' })
  const coordinator = redisCoordinator({ client: redis, bus: { local: [l1] } })
  const cache = createCache({
    tiers: [l1, memcachedStore({ client: memcached })],
    coordinator,
    policy: { ttl: '5m', tags: ['catalog'] },
  })
  return { cache, close: () => (coordinator.close(), redis.disconnect(), memcached.close()) }
}
