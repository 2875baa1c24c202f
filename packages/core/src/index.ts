export type {
  BatchLoader,
  BatchLoaderContext,
  BatchPolicy,
  Cache,
  CacheOptions,
  InvalidateOptions,
  Loader,
  LoaderContext,
  WaitUntil,
} from './cache.js'
export type { AnswerState, GetManyOrSetOptions, GetOptions, GetOrSetOptions, ReadStatus } from './engine/status.js'
export { hotKeys } from './engine/hot-keys.js'
export type { HotKey, HotKeysOptions } from './engine/hot-keys.js'
export { refreshAhead } from './engine/refresh-ahead.js'
export { slidingExpiry } from './engine/sliding.js'
export { withConsistentWrites } from './consistent-writes.js'
export type { ConsistentWritesOptions } from './consistent-writes.js'
export type { Strategy } from './engine/strategy.js'
export type { WarmOptions, WarmProgress, WarmResult } from './engine/warm.js'
export { cacheControl, cacheHeaders, formatCacheStatus } from './cache-control.js'
export type { CacheControlOptions, CacheHeaders, CacheHeadersOptions, CacheStatus, CacheStatusForward } from './cache-control.js'
export type { Codec, CodecContext, CodecPlan, Encoded, TierCodecs, ValueCheck } from './codec.js'
export { memoryCoordinator, nextStamp } from './coordinator.js'
export type { ClockCoordinator, Coordinator, Lock, LockAttempt, MemoryCoordinatorOptions } from './coordinator.js'
export { parseDuration } from './duration.js'
export type { Duration, DurationUnit } from './duration.js'
// Entries' helpers and envelopes (createEntry, capEntry, encodeEntry, toEnvelope, ...), the MemoryStore class and
// resolvePolicy are for store authors: `@tiercache/core/store`.
export type { Entry } from './entry.js'
export { CacheError } from './errors.js'
export type { CacheErrorCode } from './errors.js'
export { flightAlive, joinFlight, ownFlight } from './flight.js'
export type { Flight, FlightBound } from './flight.js'
export { validateTags } from './policy.js'
export type { Policy, ResolvedPolicy } from './policy.js'
export type {
  CacheEvent,
  CacheEventType,
  DeleteEvent,
  ErrorEvent,
  EvictEvent,
  ExpireEvent,
  FillEvent,
  HitEvent,
  InvalidateEvent,
  InvalidEvent,
  LoadEvent,
  MissEvent,
  ReencryptEvent,
  StaleEvent,
  StaleReason,
  WriteEvent,
} from './events.js'
export type { CacheStats, TierStats } from './stats.js'
export type { EvictionReason, ReadIntent, Store, StoreEvent, SyncHint } from './store.js'
export { Circuit, circuitBreaker } from './stores/circuit-breaker.js'
export type { CircuitBreakerOptions, CircuitChange, CircuitState, GuardedStore } from './stores/circuit-breaker.js'
export { estimateSize } from './stores/estimate-size.js'
export { memoryStore } from './stores/memory.js'
export type { MemoryStoreOptions } from './stores/memory-options.js'
export type { EvictionPolicy } from './stores/eviction.js'
export { namespacePrefix } from './keys.js'
export { assertKey, assertSerializable, assertWellFormed, MAX_KEY_LENGTH } from './validate.js'
export type { Timers, WriteBehind, WriteBehindOptions } from './write-behind/write-behind.js'
export { memoryWriteQueue } from './write-behind/memory-queue.js'
export { persistWriteBatch } from './write-behind/batch.js'
export type { Outcome as WriteOutcome, WriteBatchOptions } from './write-behind/batch.js'
export type {
  DeadLetter,
  Persist,
  PersistResult,
  QueuedWrite,
  RetryOptions,
  WriteBehindEvent,
  WriteQueue,
  WriteRecord,
  WriteSink,
} from './write-behind/types.js'
// Last, as the order of modules in an app's bundle follows these exports and gzip compresses it better so (see
// engine/engine.ts's imports).
export { createWriteBehind } from './write-behind/write-behind.js'
export { createCache } from './cache.js'
export { warm } from './engine/warm.js'
