import type { Duration } from '@tiercache/core'

/**
 * Options of `indexedDbStore`.
 *
 * @example
 * const options: IndexedDbStoreOptions = { dbName: 'my-app', maxEntries: 2_000, maxTtl: '1d' }
 */
export interface IndexedDbStoreOptions {
  /** IndexedDB database name. Give each app (and each test) its own. @default 'tiercache' */
  dbName?: string
  /**
   * Object store inside the database. idb-keyval creates exactly one object store per database, when the
   * database is first created: use another `dbName` rather than a second `storeName` in one database.
   * @default 'entries'
   */
  storeName?: string
  /** Most entries kept; past it the least recently used go first (down to 90% of it). @default 5000 */
  maxEntries?: number
  /** Longest an entry stays here, whatever its policy says: core ends every window of what it writes here by then. @default none */
  maxTtl?: Duration
  /** Shown in stats, events and the Cache-Status header. @default 'indexeddb' */
  name?: string
  /**
   * Clock (epoch ms) for dropping expired entries and for access times. `createCache` does not hand its clock to
   * this store (it only does that for memoryStore): pass the same function to both when you inject one.
   * @default Date.now
   */
  now?: () => number
  /** How often (by the clock above, checked when the store is used) a background sweep deletes expired entries. @default '1m' */
  sweepInterval?: Duration
  /** Most entries one sweep looks at; the next sweep goes on where it stopped. @default 200 */
  sweepLimit?: number
  /**
   * Access times of reads are held in memory (one per key read) and written in one transaction, to the database
   * `<dbName>-lru`, this long after the first of them (and when the page is hidden, before an eviction, on
   * `flush()` and `close()`). @default '5s'
   */
  accessFlushInterval?: Duration
  /**
   * Write them sooner, once this many keys wait (in a task of its own, never inside the read). Writing a time
   * costs IndexedDB about as much as reading a key, and slows the origin's reads in every tab meanwhile: leave it
   * unset unless other tabs' evictions must see reads sooner. @default none (only the interval)
   */
  accessFlushBatch?: number
}
