// @tiercache/edge: tiercache for Cloudflare Workers. Workers Cache API (L1, per data centre) and Upstash Redis
// (L2, global) stores, a Redis coordinator for tags and locks, and whole-response caching for fetch handlers.
export { cacheApiStore } from './cache-api-store.js'
export type { CacheApiStoreOptions, CacheLike, CacheStorageLike } from './cache-api-store.js'
export { upstashStore } from './upstash-store.js'
export type { UpstashStoreOptions } from './upstash-store.js'
export { kvStore, KV_MAX_VALUE_BYTES } from './kv-store.js'
export type { KvEntryMetadata, KvNamespaceLike, KvStoreOptions } from './kv-store.js'
export { durableObjectCoordinator } from './durable-object-coordinator.js'
export type {
  DurableObjectCoordinator,
  DurableObjectCoordinatorOptions,
  DurableObjectNamespaceLike,
  DurableObjectStubLike,
} from './durable-object-coordinator.js'
export { TiercacheCoordinator } from './durable-object.js'
export type { DurableObjectStateLike, DurableObjectStorageLike } from './durable-object.js'
export { upstashCoordinator } from './upstash-coordinator.js'
export type { UpstashCoordinatorOptions } from './upstash-coordinator.js'
export type { RedisClient, RedisPipeline, RedisScript } from './redis-client.js'
export { withCache } from './with-cache.js'
export { UNKEYED_HEADERS } from './request-key.js'
export type { CachedFetchHandler, FetchHandler, WithCacheOptions } from './with-cache.js'
export type { ExecutionContextLike, ResponseCacheOptions } from './response-options.js'
export type { PassReason } from './cacheability.js'
export { choiceOf, createEdgeCache } from './edge-cache.js'
export type { CreateEdgeCacheOptions, EdgeCacheChoice, EdgeCacheEnv, EdgeCoordinatorKind, EdgeL2, RedisConstructor } from './edge-cache.js'
export { cloudflareWriteQueue, consumeWriteBatch } from './cloudflare-queue.js'
export type { ConsumeWriteBatchOptions, MessageBatchLike, QueueMessageLike, QueueProducerLike } from './cloudflare-queue.js'
export { CACHE_TAG_COUNT_LIMIT, CACHE_TAG_HEADER_LIMIT, cdnTag, cdnTags, outwardHeaders } from './cdn-headers.js'
export type { CacheTagOptions, HeaderScope, OutwardHeaders, OutwardHeadersOptions } from './cdn-headers.js'
export type { InvalidationTarget } from './url-tags.js'
export { invalidateEverywhere, withWorkersCache, workersCacheOf } from './purge.js'
export type {
  EdgeInvalidationOptions,
  InvalidateEverywhereOptions,
  InvalidationReport,
  PurgeResultLike,
  PurgeSelector,
  WorkersCacheLike,
  WorkersCacheOutcome,
} from './purge.js'
export { zonePurger } from './zone-purge.js'
export type { ZonePurgeEvent, ZonePurger, ZonePurgeReport, ZonePurgerOptions } from './zone-purge.js'
