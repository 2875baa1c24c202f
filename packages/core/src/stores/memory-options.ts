import type { Duration } from '../duration.js'
import type { EvictionPolicy } from './eviction.js'

export interface MemoryStoreOptions {
  /** Shown in stats and events. @default 'memory' */
  name?: string
  /** Most entries kept; past it, `eviction` picks who goes. @default 10000 */
  maxEntries?: number
  /** Most bytes kept, as estimated by `sizeOf`; past it, `eviction` picks who goes. @default unbounded */
  maxBytes?: number
  /**
   * Who goes first when the store is full:
   * - `'lru'`: the least recently read or written entry.
   * - `'lfu'`: W-TinyLFU. A newcomer replaces an entry only if a frequency sketch says it is read more often, so a
   *   one-time scan of many keys cannot flush the frequently read set; the split of its main region between entries
   *   read once and entries read again adapts to the workload. About 15 bytes more per entry; a store of fewer than
   *   5,000 entries counts reads over a longer sample (50,000 reads), up to about 40 bytes more per entry.
   * - `'fifo'`: the oldest write; reads change nothing (the cheapest read path, the lowest hit ratio).
   * @default 'lru'
   */
  eviction?: EvictionPolicy
  /** Longest time an entry stays here, whatever its policy says (e.g. '10s' for an L1 in front of a shared L2). */
  maxTtl?: Duration
  /** Estimated bytes of a value, for `maxBytes`. @default a walk counting 2 bytes per string character */
  sizeOf?: (value: unknown) => number
  /** Clock for dropping expired entries. @default the clock of the cache it is given to, else Date.now */
  now?: () => number
}
