import { createCache, memoryStore, type Cache, type CacheEvent, type Policy } from '@tiercache/core'
import { redisCoordinator, redisStore, type BusEvent, type RedisCoordinator } from '@tiercache/redis'
import { Redis } from 'ioredis'

/** The demo Worker's policy: fresh 10 s, 10 s of stale-while-revalidate, stale-if-error for 10 min. */
export const productPolicy = { ttl: '10s', swr: '10s', staleIfError: '10m', negativeTtl: '10s', tags: ['products'] } satisfies Policy

export interface OriginCache {
  cache: Cache
  coordinator: RedisCoordinator
  client: Redis
  /** Closes the bus and the Redis connections. */
  close(): Promise<void>
}

export interface OriginCacheOptions {
  /** The Redis the demo Worker reaches through Upstash (same database, over TCP here). */
  redisUrl: string
  /** Must be the Worker's to share its entries and tags. @default 'demo' */
  namespace?: string
  onEvent?: (event: CacheEvent) => void
  onBus?: (event: BusEvent) => void
}

/**
 * The origin's cache: memory L1 (each server's own), Redis L2 (shared by every server and by the Worker), tags and
 * locks in Redis in the layout the Worker's upstashCoordinator uses, and the bus so that a change made on one
 * server leaves every other server's L1 within milliseconds.
 */
export function createOriginCache(options: OriginCacheOptions): OriginCache {
  // No offline queue: while Redis is unreachable a call fails at once (a miss) instead of waiting in memory.
  const client = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1_000 })
  client.on('error', () => {
    // ioredis reconnects by itself; the cache reports failing calls as events.
  })
  const l1 = memoryStore({ maxEntries: 10_000 })
  const coordinator = redisCoordinator({ client, bus: { local: [l1], ...(options.onBus ? { onEvent: options.onBus } : {}) } })
  const cache = createCache({
    tiers: [l1, redisStore({ client, coordinator })],
    coordinator,
    namespace: options.namespace ?? 'demo',
    policy: productPolicy,
    tierTimeout: '250ms',
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  })
  return {
    cache,
    coordinator,
    client,
    async close() {
      coordinator.close()
      await client.quit().catch(() => client.disconnect())
    },
  }
}
