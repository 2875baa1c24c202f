import { createCache, memoryStore, type Cache, type CacheOptions, type Duration, type MemoryStoreOptions } from '@tiercache/core'
import { cacheApiStore, type CacheStorageLike } from './cache-api-store.js'
import { assertRedisClient, type RedisClient } from './redis-client.js'
import { upstashCoordinator } from './upstash-coordinator.js'
import { upstashStore } from './upstash-store.js'
import { assertOptions, durationOption, optionalFunction, optionalString, typeOf } from './validate.js'

/** The Worker env fields createEdgeCache reads (secrets: `wrangler secret put UPSTASH_REDIS_REST_TOKEN`). */
export interface EdgeCacheEnv {
  UPSTASH_REDIS_REST_URL?: string | undefined
  UPSTASH_REDIS_REST_TOKEN?: string | undefined
}

/** The @upstash/redis client class (`import { Redis } from '@upstash/redis/cloudflare'`), or one like it. */
export type RedisConstructor = new (config: {
  url: string
  token: string
  retry?: false | { retries?: number; backoff?: (retryCount: number) => number }
  signal?: () => AbortSignal
}) => unknown

export interface CreateEdgeCacheOptions extends Omit<CacheOptions, 'tiers' | 'coordinator'> {
  /** The client class, used when env has UPSTASH_REDIS_REST_URL and TOKEN; tiercache does not import it itself. */
  Redis?: RedisConstructor
  /** A ready client instead (then env is not read for Upstash). */
  redis?: RedisClient
  /** Cache API cache for L1 (`caches.open(cacheName)`). @default caches.default */
  cacheName?: string
  /**
   * Longest time L1 (this data centre's Cache API) keeps an entry before asking L2 again; shorter means fresher
   * across data centres and more L2 reads. @default 30 days (the lifetime of tag records in Redis)
   */
  l1MaxTtl?: Duration
  /** The CacheStorage for L1. @default globalThis.caches */
  caches?: CacheStorageLike
  /** Prefix of every Redis key (values, tags, locks). @default 'tc:' */
  redisPrefix?: string
  /** Timeout of each request the client it builds makes (one retry after 50 ms within it). @default '1s' */
  redisTimeout?: Duration
  /** How long an isolate trusts tag times it read: the staleness bound of global invalidation. @default '5s' */
  tagCacheTtl?: Duration
  /** Bounds of the in-memory L2 used when Upstash is not configured. @default { maxEntries: 1000 } */
  memory?: MemoryStoreOptions
  /** Where the one-time notice about the in-memory L2 goes. @default console.warn */
  log?: (message: string) => void
}

let noticeGiven = false
const TAG_TTL = 30 * 86_400_000

/**
 * The edge tiers from a Worker's env: L1 the Workers Cache API, L2 Upstash Redis with an upstashCoordinator
 * (tags and locks shared by every isolate) when `UPSTASH_REDIS_REST_URL` and `UPSTASH_REDIS_REST_TOKEN` are set;
 * otherwise an in-memory L2 per isolate and an in-process coordinator, with one notice in the log. Build it once
 * per isolate (withCache and tiercache() do, when given it as a factory).
 *
 * @example
 * import { Redis } from '@upstash/redis/cloudflare'
 * export default withCache(handler, { cache: (env) => createEdgeCache(env, { Redis, namespace: 'v1' }), policy: { ttl: '1m', swr: '10m' } })
 */
export function createEdgeCache(env: EdgeCacheEnv, options: CreateEdgeCacheOptions = {}): Cache {
  if (typeof env !== 'object' || env === null) throw new TypeError(`createEdgeCache(env) needs the Worker's env object, got ${typeOf(env)}`)
  assertOptions(options, 'createEdgeCache(env, options)')
  const { Redis, redis: given, cacheName, l1MaxTtl, caches, redisPrefix, redisTimeout, tagCacheTtl, memory, log, ...cacheOptions } = options
  optionalFunction(Redis, 'options.Redis')
  optionalFunction(log, 'options.log')
  optionalString(redisPrefix, 'options.redisPrefix', 128)
  const timeout = durationOption(redisTimeout, 'options.redisTimeout', 1_000, true)
  // Entries in either tier must not outlive Redis' record of their tags (the coordinator's tagTtl, 30 days).
  const l1Max = Math.min(durationOption(l1MaxTtl, 'options.l1MaxTtl', TAG_TTL, true), TAG_TTL)
  if (given !== undefined) assertRedisClient(given, 'options.redis')

  const url = env.UPSTASH_REDIS_REST_URL
  const token = env.UPSTASH_REDIS_REST_TOKEN
  let redis = given
  if (redis === undefined && url) {
    if (!token) throw new TypeError('env.UPSTASH_REDIS_REST_TOKEN is required when env.UPSTASH_REDIS_REST_URL is set')
    if (Redis === undefined) {
      throw new TypeError("options.Redis is required to use Upstash: import { Redis } from '@upstash/redis/cloudflare' and pass it")
    }
    const client: unknown = new Redis({
      url,
      token,
      retry: { retries: 1, backoff: () => 50 },
      signal: () => AbortSignal.timeout(timeout),
    })
    assertRedisClient(client, 'new options.Redis(...)')
    redis = client
  }
  if (redis === undefined) {
    if (!noticeGiven) {
      noticeGiven = true
      ;(log ?? console.warn)('tiercache: no UPSTASH_REDIS_REST_URL, using an in-memory L2')
    }
    const l1 = cacheApiStore({ cacheName, caches, now: cacheOptions.now, maxTtl: l1Max })
    return createCache({ ...cacheOptions, tiers: [l1, memoryStore(memory ?? { maxEntries: 1_000 })] })
  }
  const prefix = redisPrefix ?? 'tc:'
  const coordinator = upstashCoordinator({ redis, prefix, tagCacheTtl, tagTtl: TAG_TTL, timeout, now: cacheOptions.now })
  const l1 = cacheApiStore({ cacheName, caches, now: cacheOptions.now, maxTtl: l1Max })
  const l2 = upstashStore({ redis, prefix: `${prefix}v:`, coordinator, now: cacheOptions.now })
  return createCache({ ...cacheOptions, tiers: [l1, l2], coordinator })
}
