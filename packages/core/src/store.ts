import type { Entry } from './entry.js'

/**
 * What a read is for, so that a store can do more in the same round trip. Given by core on the reads of
 * getOrSet that a load follows when they find nothing.
 */
export interface ReadIntent {
  /**
   * The caller loads the key if this read finds no entry, taking the coordinator's lock for this long (ms) first. A
   * store linked to the cache's coordinator (upstashStore with upstashCoordinator) may take that lock in the same
   * round trip; the coordinator then answers core's lock request without one of its own.
   */
  readonly lockTtl?: number
}

/** Why a store let go of an entry on its own. */
export type EvictionReason = 'capacity' | 'size' | 'expired'

export interface StoreEvent {
  type: 'evict'
  key: string
  reason: EvictionReason
}

/**
 * One tier: where entries live. Stores keep what core gives them; core decides what an entry's times mean.
 * A store is bound to its namespace or prefix when built, and never throws for a miss.
 *
 * @example
 * const store: Store = memoryStore({ maxEntries: 1_000 })
 */
export interface Store {
  /** Shown in stats, events and the Cache-Status header. */
  readonly name: string
  /**
   * The entry under `key`, or undefined when there is none (or it is past its last servable moment). `intent` says
   * what the read is for; stores that cannot use it ignore it.
   */
  get(key: string, intent?: ReadIntent): Promise<Entry | undefined>
  /** Stores the entry; the store may drop it after its last servable moment. */
  set(key: string, entry: Entry): Promise<void>
  delete(key: string): Promise<void>
  /** Entries aligned with `keys`, in one round trip. */
  getMany?(keys: readonly string[]): Promise<(Entry | undefined)[]>
  /** Writes several entries in one round trip. */
  setMany?(items: readonly (readonly [key: string, entry: Entry])[]): Promise<void>
  /** Longest time in ms this store keeps an entry: core ends every window of what it writes here by then. */
  readonly maxTtl?: number | undefined
  /**
   * Largest value, in bytes as encoded, this store's backend takes (Workers KV 25 MiB, Memcached 1 MB, an Upstash
   * request 10 MB): a codec (`createCache({ codec })`) does not write larger ones here, and reports them.
   */
  readonly maxValueBytes?: number | undefined
  /** Overrides the cache's `tierTimeout` for this store, in ms; 0 for in-process stores that cannot hang. */
  readonly timeout?: number | undefined
  /**
   * Optional sync capability, for stores in this process: the entry under `key` without a promise, or undefined.
   * With it, core answers from this tier without awaiting, and a fresh hit from the first tier without allocating.
   * The object returned may be reused by the store's next call (core reads it at once and copies what it keeps),
   * and may be past its last servable moment (core judges the times). Implement it together with `setSync`.
   * `hint` is an object core keeps per key across calls: the store may note where the key lives in it (say, its
   * slot) and check that note first next time, instead of an index lookup. Ignoring it is fine.
   */
  getSync?(key: string, hint?: SyncHint): Entry | undefined
  /** Optional sync capability: stores the entry before returning; `now` (epoch ms) when the caller knows the time. */
  setSync?(key: string, entry: Entry, now?: number): void
  /** Subscribes to evictions; returns the unsubscribe function. */
  watch?(listener: (event: StoreEvent) => void): () => void
  /**
   * Called by createCache with its injected clock (options.now), for stores that judge expiry themselves;
   * a store given its own clock when built should keep it.
   */
  useClock?(now: () => number): void
}

/**
 * A per-key note core hands to a sync store's `getSync` on every call for that key; the store alone reads and writes
 * `slot` (core starts it at -1). It must be checked before use: the key may have moved or gone since.
 */
export interface SyncHint {
  slot: number
}
