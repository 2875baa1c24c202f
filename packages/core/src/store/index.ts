/**
 * @tiercache/core/store: what a store or coordinator author needs, beside the Store and Coordinator contracts.
 * Entries and envelopes (one format for every tier: Upstash, Redis, KV, Memcached and IndexedDB layouts stay one),
 * key checks, the memory store's class, policy resolution, and the names of soft-invalidation records, so that
 * a coordinator can read them with the tags' own (Coordinator.softRecords).
 *
 * The entry helpers and envelopes, the MemoryStore class and resolvePolicy are exported only here (the main entry
 * had them in 0.1); the key checks, CacheError, namespacePrefix, validateTags, estimateSize and the types are
 * exported by both.
 *
 * @example
 * import { decodeEntry, encodeEntry, type Store } from '@tiercache/core/store'
 */
export {
  capEntry,
  createEntry,
  decodeEntry,
  ENCODED_ENTRY_VERSION,
  encodeEntry,
  encodeEntryBytes,
  ENTRY_VERSION,
  fromEnvelope,
  isEntry,
  lastServable,
  toEnvelope,
} from '../entry.js'
export type { Entry, Envelope } from '../entry.js'
export { CacheError } from '../errors.js'
export type { CacheErrorCode } from '../errors.js'
export { namespacePrefix } from '../keys.js'
export { resolvePolicy, validateTags } from '../policy.js'
export type { Policy, ResolvedPolicy } from '../policy.js'
export type { EvictionReason, Store, StoreEvent, SyncHint } from '../store.js'
export type { Coordinator, Lock, LockAttempt } from '../coordinator.js'
export { estimateSize } from '../stores/estimate-size.js'
export { MemoryStore } from '../stores/memory.js'
export { assertKey, assertSerializable, assertWellFormed, MAX_KEY_LENGTH } from '../validate.js'
export { SOFT_TAG, softTags } from '../engine/soft.js'
