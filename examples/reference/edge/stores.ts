// packages/edge/README.md, "The stores and the coordinator".
import { createCache } from '@tiercache/core'
import { cacheApiStore, upstashCoordinator, upstashStore } from '@tiercache/edge'
import { Redis } from '@upstash/redis/cloudflare'

export function createTieredCache(url: string, token: string) {
  const redis = new Redis({ url, token, signal: () => AbortSignal.timeout(1000) }) // always give it a timeout
  const coordinator = upstashCoordinator({ redis })
  const cache = createCache({ tiers: [cacheApiStore(), upstashStore({ redis, coordinator })], coordinator, policy: { ttl: '5m' } })
  return cache
}
