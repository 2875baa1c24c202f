import {
  createCache,
  memoryStore,
  type Cache,
  type CacheOptions,
  type Duration,
  type MemoryStoreOptions,
  type Store,
} from '@tiercache/core'
import { cacheApiStore, type CacheStorageLike } from './cache-api-store.js'
import { durableObjectCoordinator, type DurableObjectNamespaceLike } from './durable-object-coordinator.js'
import { kvStore, type KvNamespaceLike } from './kv-store.js'
import { assertRedisClient, type RedisClient } from './redis-client.js'
import { upstashCoordinator } from './upstash-coordinator.js'
import { upstashStore } from './upstash-store.js'
import { assertOptions, optionalDuration, optionalFunction, optionalString, typeOf } from '@tiercache/core/kit'

/**
 * The Worker env fields createEdgeCache reads (secrets: `wrangler secret put UPSTASH_REDIS_REST_TOKEN`). The KV and
 * Durable Object bindings are looked up under `options.kvBinding` and `options.durableObjectBinding`.
 */
export interface EdgeCacheEnv {
  UPSTASH_REDIS_REST_URL?: string | undefined
  UPSTASH_REDIS_REST_TOKEN?: string | undefined
  /** A Workers KV namespace for L2 (`kv_namespaces = [{ binding = "TIERCACHE_KV", id = "…" }]`). */
  TIERCACHE_KV?: KvNamespaceLike | undefined
  /** The TiercacheCoordinator Durable Object namespace (`durable_objects.bindings = [{ name = "TIERCACHE", … }]`). */
  TIERCACHE?: DurableObjectNamespaceLike | undefined
}

/** The @upstash/redis client class (`import { Redis } from '@upstash/redis/cloudflare'`), or one like it. */
export type RedisConstructor = new (config: {
  url: string
  token: string
  enableAutoPipelining?: boolean
  retry?: false | { retries?: number; backoff?: (retryCount: number) => number }
  signal?: () => AbortSignal
}) => unknown

/** Which shared tier createEdgeCache uses below the Cache API. */
export type EdgeL2 = 'upstash' | 'kv' | 'memory'
/** A coordinator createCache accepts. */
type AnyCoordinator = NonNullable<CacheOptions['coordinator']>

/** Which coordinator createEdgeCache uses: Upstash Redis, the Durable Object, or the in-process one (per isolate). */
export type EdgeCoordinatorKind = 'upstash' | 'durable-object' | 'local'

/** What createEdgeCache chose, and why (also logged once per isolate). */
export interface EdgeCacheChoice {
  l2: EdgeL2
  coordinator: EdgeCoordinatorKind
  /** One line saying what was chosen and from which bindings. */
  summary: string
}

export interface CreateEdgeCacheOptions extends Omit<CacheOptions, 'tiers' | 'coordinator'> {
  /**
   * The shared tier under L1, instead of the one chosen from env: 'upstash' (needs the Upstash URL and token or
   * `redis`), 'kv' (needs the KV binding), 'memory' (per isolate). @default from env: Upstash, else KV, else memory
   */
  l2?: EdgeL2 | undefined
  /**
   * The coordinator (tags and locks), instead of the one chosen from env: a kind, or a Coordinator of your own.
   * @default 'upstash' with the Upstash L2; else 'durable-object' when the binding is there; else 'local'
   */
  coordinator?: EdgeCoordinatorKind | AnyCoordinator | undefined
  /** Name of the KV namespace binding for the 'kv' L2. @default 'TIERCACHE_KV' */
  kvBinding?: string
  /** Name of the TiercacheCoordinator Durable Object binding. @default 'TIERCACHE' */
  durableObjectBinding?: string
  /** The Durable Object coordinator's `timeout`: a request to an object slower than this fails. @default '1s' */
  durableObjectTimeout?: Duration
  /** The client class, used when env has UPSTASH_REDIS_REST_URL and TOKEN; tiercache does not import it itself. */
  Redis?: RedisConstructor
  /** A ready client instead (then env is not read for Upstash). */
  redis?: RedisClient
  /** Cache API cache for L1 (`caches.open(cacheName)`). @default caches.default */
  cacheName?: string
  /**
   * Longest time L1 (this data centre's Cache API) keeps an entry before asking L2 again; shorter means fresher
   * across data centres and more L2 reads. @default 30 days (the lifetime of tag records)
   */
  l1MaxTtl?: Duration
  /** The CacheStorage for L1. @default globalThis.caches */
  caches?: CacheStorageLike
  /** Prefix of every Redis key (values, tags, locks), of KV keys, and of the coordinator objects' names. @default 'tc:' */
  redisPrefix?: string
  /** Timeout of each request the client it builds makes (one retry after 50 ms within it). @default '1s' */
  redisTimeout?: Duration
  /** How long an isolate trusts tag stamps it read: the staleness bound of global invalidation. @default '5s' */
  tagCacheTtl?: Duration
  /** Bounds of the in-memory L2 used when no shared one is configured. @default { maxEntries: 1000 } */
  memory?: MemoryStoreOptions
  /** Where the one-time line about the choice goes. @default console.warn for an in-memory L2, else console.info */
  log?: (message: string) => void
}

/**
 * Build flag: a bundler that defines `__TIERCACHE_UPSTASH__` as `false` (wrangler: `"define": { "__TIERCACHE_UPSTASH__":
 * "false" }`; Vite and esbuild: `define`) leaves the Upstash store and coordinator out of the bundle. createEdgeCache
 * then never picks Upstash from env, and asking for it (`l2` or `coordinator` 'upstash') throws. Not defined (the
 * default), every backend is in the bundle, chosen from env at run time. The flag is written out where each Upstash
 * factory is called: a bundler drops a branch only where the defined constant itself stands.
 */
declare const __TIERCACHE_UPSTASH__: boolean | undefined

const logged = new Set<string>()
const TAG_TTL = 30 * 86_400_000
const L2_KINDS: readonly EdgeL2[] = ['upstash', 'kv', 'memory']
const COORDINATOR_KINDS: readonly EdgeCoordinatorKind[] = ['upstash', 'durable-object', 'local']

/**
 * The edge tiers from a Worker's env, built once per isolate (withCache and tiercache() do, when given it as a
 * factory): L1 the Workers Cache API; L2 and the coordinator from the bindings found, logged once per isolate:
 *
 * | env has | L2 | coordinator |
 * |---|---|---|
 * | `UPSTASH_REDIS_REST_URL` + `_TOKEN` | Upstash | Upstash (tag stamps read with the entry) |
 * | a KV binding (`TIERCACHE_KV`) | Workers KV | the Durable Object when bound, else in-process |
 * | neither | in memory, per isolate | the Durable Object when bound, else in-process |
 *
 * With the Durable Object (`TIERCACHE`, class TiercacheCoordinator exported by the Worker), isolates share locks
 * (a stampede loads once) and tag invalidations (global within tagCacheTtl). `options.l2` and
 * `options.coordinator` override the choice; `choiceOf(cache)` says what was chosen.
 *
 * @example
 * export { TiercacheCoordinator } from '@tiercache/edge'
 * export default withCache(handler, { cache: (env) => createEdgeCache(env, { namespace: 'v1' }), policy: { ttl: '1m', swr: '10m' } })
 */
export function createEdgeCache(env: EdgeCacheEnv, options: CreateEdgeCacheOptions = {}): Cache {
  if (typeof env !== 'object' || env === null) throw new TypeError(`createEdgeCache(env) needs the Worker's env object, got ${typeOf(env)}`)
  assertOptions(options, 'createEdgeCache(env, options)')
  const {
    Redis,
    redis: given,
    cacheName,
    l1MaxTtl,
    caches,
    redisPrefix,
    redisTimeout,
    tagCacheTtl,
    memory,
    log,
    l2: l2Asked,
    coordinator: coordinatorAsked,
    kvBinding = 'TIERCACHE_KV',
    durableObjectBinding = 'TIERCACHE',
    durableObjectTimeout,
    ...cacheOptions
  } = options
  optionalFunction(Redis, 'options.Redis')
  optionalFunction(log, 'options.log')
  optionalString(redisPrefix, 'options.redisPrefix', undefined, 128, { empty: true })
  optionalString(kvBinding, 'options.kvBinding', undefined, 128)
  optionalString(durableObjectBinding, 'options.durableObjectBinding', undefined, 128)
  if (l2Asked !== undefined && !L2_KINDS.includes(l2Asked)) {
    throw new TypeError(`options.l2 must be one of ${L2_KINDS.map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(l2Asked)}`)
  }
  const ownCoordinator = typeof coordinatorAsked === 'object' && coordinatorAsked !== null ? coordinatorAsked : undefined
  if (ownCoordinator === undefined && coordinatorAsked !== undefined && !COORDINATOR_KINDS.includes(coordinatorAsked as EdgeCoordinatorKind)) {
    throw new TypeError(
      `options.coordinator must be one of ${COORDINATOR_KINDS.map((k) => `'${k}'`).join(', ')} or a Coordinator, got ${JSON.stringify(coordinatorAsked)}`,
    )
  }
  if (ownCoordinator !== undefined && typeof ownCoordinator.invalidateTags !== 'function') {
    throw new TypeError('options.coordinator must be a Coordinator (see @tiercache/core)')
  }
  const timeout = optionalDuration(redisTimeout, 'options.redisTimeout', undefined, { positive: true }) ?? 1_000
  const objectTimeout = optionalDuration(durableObjectTimeout, 'options.durableObjectTimeout', undefined, { positive: true })
  // Entries in any tier must not outlive the record of their tags (the coordinator's tagTtl, 30 days).
  const l1Max = Math.min(optionalDuration(l1MaxTtl, 'options.l1MaxTtl', undefined, { positive: true }) ?? TAG_TTL, TAG_TTL)
  if (given !== undefined) assertRedisClient(given, 'options.redis')
  const prefix = redisPrefix ?? 'tc:'
  const bindings = env as Record<string, unknown>
  const kv = bindings[kvBinding] as KvNamespaceLike | undefined
  const objects = bindings[durableObjectBinding] as DurableObjectNamespaceLike | undefined

  const redis = () => given ?? upstashClient(env, Redis, timeout)
  const upstashBuilt = typeof __TIERCACHE_UPSTASH__ !== 'boolean' || __TIERCACHE_UPSTASH__
  const hasUpstash = upstashBuilt && (given !== undefined || Boolean(env.UPSTASH_REDIS_REST_URL))
  const l2Kind: EdgeL2 = l2Asked ?? (hasUpstash ? 'upstash' : kv !== undefined && kv !== null ? 'kv' : 'memory')
  const coordinatorKind: EdgeCoordinatorKind | undefined =
    ownCoordinator !== undefined
      ? undefined
      : ((coordinatorAsked as EdgeCoordinatorKind | undefined) ??
        (l2Kind === 'upstash' ? 'upstash' : objects !== undefined && objects !== null ? 'durable-object' : 'local'))

  if (!upstashBuilt && (l2Kind === 'upstash' || coordinatorKind === 'upstash')) {
    throw new TypeError(`options.${l2Kind === 'upstash' ? 'l2' : 'coordinator'} 'upstash': this bundle was built without Upstash (__TIERCACHE_UPSTASH__ defined as false)`)
  }
  const client = l2Kind === 'upstash' || coordinatorKind === 'upstash' ? redis() : undefined
  let coordinator: AnyCoordinator | undefined = ownCoordinator
  if ((typeof __TIERCACHE_UPSTASH__ !== 'boolean' || __TIERCACHE_UPSTASH__) && coordinatorKind === 'upstash') {
    coordinator = upstashCoordinator({ redis: client as RedisClient, prefix, tagCacheTtl, tagTtl: TAG_TTL, timeout, now: cacheOptions.now })
  } else if (coordinatorKind === 'durable-object') {
    if (objects === undefined || objects === null) {
      throw new TypeError(`env.${durableObjectBinding} is required for options.coordinator 'durable-object': bind the TiercacheCoordinator class under that name`)
    }
    coordinator = durableObjectCoordinator({ namespace: objects, prefix, tagCacheTtl, tagTtl: TAG_TTL, timeout: objectTimeout, now: cacheOptions.now })
  }

  let l2: Store
  if ((typeof __TIERCACHE_UPSTASH__ !== 'boolean' || __TIERCACHE_UPSTASH__) && l2Kind === 'upstash') {
    l2 = upstashStore({
      redis: client as RedisClient,
      prefix: `${prefix}v:`,
      coordinator: coordinatorKind === 'upstash' ? (coordinator as Parameters<typeof upstashStore>[0]['coordinator']) : undefined,
      maxTtl: TAG_TTL,
      now: cacheOptions.now,
    })
  } else if (l2Kind === 'kv') {
    if (kv === undefined || kv === null) throw new TypeError(`env.${kvBinding} is required for options.l2 'kv': bind a KV namespace under that name`)
    // Linked to the Durable Object coordinator: what a read found goes with the lock request (see kvStore).
    const linked = coordinatorKind === 'durable-object' ? (coordinator as Parameters<typeof kvStore>[0]['coordinator']) : undefined
    l2 = kvStore({ namespace: kv, prefix, maxTtl: TAG_TTL, now: cacheOptions.now, coordinator: linked })
  } else l2 = memoryStore(memory ?? { maxEntries: 1_000 })

  const coordinatorName = ownCoordinator !== undefined ? `${ownCoordinator.name} (given)` : describeCoordinator(coordinatorKind as EdgeCoordinatorKind, durableObjectBinding)
  const summary = `tiercache: L1 cache-api, L2 ${describeL2(l2Kind, kvBinding)}, coordinator ${coordinatorName}`
  if (!logged.has(summary)) {
    logged.add(summary)
    ;(log ?? (l2Kind === 'memory' ? console.warn : console.info))(summary)
  }

  const l1 = cacheApiStore({ cacheName, caches, now: cacheOptions.now, maxTtl: l1Max })
  const cache = createCache({ ...cacheOptions, tiers: [l1, l2], coordinator })
  choices.set(cache, { l2: l2Kind, coordinator: coordinatorKind ?? 'local', summary })
  return cache
}

const choices = new WeakMap<Cache, EdgeCacheChoice>()

/**
 * What createEdgeCache chose for this cache (undefined for a cache it did not build); show it on a status page.
 *
 * @example
 * const { l2, coordinator } = choiceOf(cache) ?? {}
 */
export function choiceOf(cache: Cache): EdgeCacheChoice | undefined {
  return choices.get(cache)
}

function describeL2(kind: EdgeL2, kvBinding: string): string {
  if (kind === 'upstash') return 'upstash (UPSTASH_REDIS_REST_URL)'
  if (kind === 'kv') return `kv (env.${kvBinding})`
  return `memory (per isolate: set UPSTASH_REDIS_REST_URL and _TOKEN, or bind a KV namespace as ${kvBinding}, to share it)`
}

function describeCoordinator(kind: EdgeCoordinatorKind, binding: string): string {
  if (kind === 'upstash') return 'upstash'
  if (kind === 'durable-object') return `durable-object (env.${binding})`
  return `local (per isolate: bind the TiercacheCoordinator Durable Object as ${binding} for shared locks and tags)`
}

/** A client for the env's Upstash URL and token. */
function upstashClient(env: EdgeCacheEnv, Redis: RedisConstructor | undefined, timeout: number): RedisClient {
  const url = env.UPSTASH_REDIS_REST_URL
  const token = env.UPSTASH_REDIS_REST_TOKEN
  if (!url) throw new TypeError('env.UPSTASH_REDIS_REST_URL is required for Upstash (or pass options.redis)')
  if (!token) throw new TypeError('env.UPSTASH_REDIS_REST_TOKEN is required when env.UPSTASH_REDIS_REST_URL is set')
  if (Redis === undefined) {
    throw new TypeError("options.Redis is required to use Upstash: import { Redis } from '@upstash/redis/cloudflare' and pass it")
  }
  const client: unknown = new Redis({
    url,
    token,
    // Auto-pipelining batches the commands issued in one tick into one HTTP request, made by whichever request's
    // code issued the first: in Workers another request's commands would then depend on that request's lifetime.
    enableAutoPipelining: false,
    retry: { retries: 1, backoff: () => 50 },
    signal: () => AbortSignal.timeout(timeout),
  })
  assertRedisClient(client, 'new options.Redis(...)')
  return client
}
