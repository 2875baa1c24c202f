// @tiercache/edge: tiercache for Cloudflare Workers. Workers Cache API (L1, per data centre) and Upstash Redis
// (L2, global) stores, and a Redis coordinator for tags and locks.
export { cacheApiStore } from './cache-api-store.js'
export type { CacheApiStoreOptions, CacheLike, CacheStorageLike } from './cache-api-store.js'
export { upstashStore } from './upstash-store.js'
export type { UpstashStoreOptions } from './upstash-store.js'
export { upstashCoordinator } from './upstash-coordinator.js'
export type { UpstashCoordinatorOptions } from './upstash-coordinator.js'
export type { RedisClient, RedisPipeline } from './redis-client.js'
