import { createCache, memoryStore, type Cache, type CacheOptions } from '@tiercache/core'
import { cacheApiStore, upstashCoordinator, upstashStore, type EdgeCacheEnv } from '@tiercache/edge'
import { Redis } from '@upstash/redis/cloudflare'

/**
 * The demo's edge cache, built once per isolate: L1 the Workers Cache API (this data centre), L2 Upstash Redis
 * (global, with tags and locks in Redis too) when UPSTASH_REDIS_REST_URL and _TOKEN are set, else an in-memory L2.
 *
 * This is what `createEdgeCache(env, { Redis })` from @tiercache/edge builds, plus one thing it has no option for:
 * L1 keeps entries for at most `l1MaxTtl`, as a data centre with less traffic would. Past it the L2 answers
 * (and refills L1), so the demo shows L2 hits while it runs in a single local data centre.
 */
export function edgeCache(env: EdgeCacheEnv, options: Omit<CacheOptions, 'tiers' | 'coordinator'> & { l1MaxTtl: string }): Cache {
  const { l1MaxTtl, ...cacheOptions } = options
  const now = cacheOptions.now ?? Date.now
  const l1 = cacheApiStore({ maxTtl: l1MaxTtl, now })
  const url = env.UPSTASH_REDIS_REST_URL
  const token = env.UPSTASH_REDIS_REST_TOKEN
  if (!url || !token) {
    return createCache({ ...cacheOptions, now, tiers: [l1, memoryStore({ maxEntries: 1_000 })] })
  }
  // A request timeout, so that an unreachable Redis is a miss after 1 s rather than a hung request.
  const redis = new Redis({ url, token, retry: { retries: 1, backoff: () => 50 }, signal: () => AbortSignal.timeout(1_000) })
  const coordinator = upstashCoordinator({ redis, now })
  return createCache({ ...cacheOptions, now, tiers: [l1, upstashStore({ redis, coordinator, now })], coordinator })
}
