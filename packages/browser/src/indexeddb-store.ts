import type { Entry, Store, StoreEvent } from '@tiercache/core'
import { fromEnvelope, toEnvelope } from '@tiercache/core/store'
import { createStore, get as idbGet, getMany as idbGetMany, promisifyRequest, type UseStore } from 'idb-keyval'
import { assertOptions, Background, noop, optionalDuration, optionalFunction, optionalInteger, optionalString } from '@tiercache/core/kit'
import { ACCESS_STORE, putTime, readTimes, unrefTimer, writeBatch } from './indexeddb-access-times.js'
import { emitEvict, evict } from './indexeddb-eviction.js'
import { ENTRY_KEYS } from './indexeddb-layout.js'
import type { IndexedDbStoreOptions } from './indexeddb-store-options.js'
import { deleteIfDead, isLive, sweepEntries } from './indexeddb-sweep.js'
import { isQuotaError, runTransaction, writeTransaction } from './indexeddb-transactions.js'

export { isQuotaError } from './indexeddb-transactions.js'
export type { IndexedDbStoreOptions } from './indexeddb-store-options.js'

/**
 * A persistent tier on IndexedDB (idb-keyval's `createStore`): entries survive reloads and are shared by every
 * tab of the origin. Values are core envelopes (`toEnvelope`), so IndexedDB's structured clone keeps them as is.
 *
 * - `getMany` reads all keys in one transaction.
 * - Expired entries are dropped when read, and by a bounded background sweep (`sweepLimit` entries every
 *   `sweepInterval`), never on the read path.
 * - `maxEntries` is enforced least-recently-used first. Reads and writes do not write access times: those
 *   collect in memory (one per key) and are written in one transaction `accessFlushInterval` after the first
 *   (or once `accessFlushBatch` wait), when the page is hidden and before an eviction, never inside a read, and
 *   to a database of their own (`<dbName>-lru`), so no transaction of the entries waits for them. Other tabs'
 *   unflushed times are not seen by an eviction; an entry without a time counts as used at the eviction.
 * - `QuotaExceededError` on a write evicts a quarter of the entries and retries once; if that fails too the
 *   write is dropped (an `evict` event with reason 'size'), never thrown.
 * - Where IndexedDB is unavailable (`indexedDB` undefined, private modes, blocked storage, open failing) every
 *   operation rejects with a `CacheError` (code 'TIER_ERROR'), which core reports as an `error` event and
 *   treats as a miss: the tier acts empty, the page keeps working.
 *
 * @example
 * const cache = createCache({
 *   tiers: [memoryStore({ maxEntries: 500 }), indexedDbStore({ dbName: 'my-app', maxEntries: 2_000, maxTtl: '1d' })],
 *   policy: { ttl: '5m', swr: '1m' },
 * })
 */
export function indexedDbStore(options: IndexedDbStoreOptions = {}): IndexedDbStore {
  return new IndexedDbStore(options)
}

/**
 * The store `indexedDbStore()` returns; besides the Store methods it can flush, sweep, count, clear and close.
 *
 * @example
 * const idb = indexedDbStore({ dbName: 'my-app' })
 * await idb.sweep() // delete expired entries now rather than in the background
 * console.log(await idb.count())
 * await idb.close()
 */
export class IndexedDbStore implements Store {
  readonly name: string
  readonly maxTtl: number | undefined
  readonly maxEntries: number
  readonly dbName: string
  readonly storeName: string
  /** The database holding access times: `<dbName>-lru`. */
  readonly lruDbName: string

  /** The entries (`dbName`/`storeName`). */
  readonly #useStore: UseStore | undefined
  /** Access times (`<dbName>-lru`): apart, so that their writes never hold up a read of the entries. */
  readonly #useTimes: UseStore | undefined
  /** Whether the access-time database was opened (close() then closes it). */
  #timesOpened = false
  #now: () => number
  /** Whether `now` was given when built (createCache's clock then does not replace it). */
  readonly #clockGiven: boolean
  readonly #sweepInterval: number
  readonly #sweepLimit: number
  readonly #flushInterval: number
  readonly #flushBatch: number
  /** Access times not written yet: key -> time of its last read or write, or null to delete the key's time. */
  #touched = new Map<string, number | null>()
  #flushTimer: ReturnType<typeof setTimeout> | undefined
  /** The flush being written, if any (flushes run one after the other). */
  #flushing: Promise<void> | undefined
  /** Whether #flushTimer is the 0 ms one of a full batch (rather than the interval's). */
  #flushSoon = false
  #lastSweep: number
  #sweepFrom: string | undefined
  #sweeping: Promise<number> | undefined
  #evicting: Promise<void> | undefined
  #listeners: ((event: StoreEvent) => void)[] = []
  #closed = false
  /** Background work the caller does not wait for (flushes, sweeps, dropping dead entries): close() waits for it. */
  readonly #background = new Background()
  readonly #onHidden = (): void => {
    if (typeof document === 'undefined' || document.visibilityState === 'hidden') this.#track(this.flush())
  }

  constructor(options: IndexedDbStoreOptions = {}) {
    assertOptions(options, 'indexedDbStore(options)', true)
    this.dbName = optionalString(options.dbName, 'options.dbName') ?? 'tiercache'
    this.storeName = optionalString(options.storeName, 'options.storeName') ?? 'entries'
    this.lruDbName = `${this.dbName}-lru`
    this.name = optionalString(options.name, 'options.name') ?? 'indexeddb'
    this.maxEntries = optionalInteger(options.maxEntries, 'options.maxEntries', 1) ?? 5_000
    this.maxTtl = optionalDuration(options.maxTtl, 'options.maxTtl', undefined, { positive: true })
    this.#now = optionalFunction(options.now, 'options.now') ?? Date.now
    this.#clockGiven = options.now !== undefined
    this.#sweepInterval = optionalDuration(options.sweepInterval, 'options.sweepInterval') ?? 60_000
    this.#sweepLimit = optionalInteger(options.sweepLimit, 'options.sweepLimit', 1) ?? 200
    this.#flushInterval = optionalDuration(options.accessFlushInterval, 'options.accessFlushInterval') ?? 5_000
    this.#flushBatch = optionalInteger(options.accessFlushBatch, 'options.accessFlushBatch', 1) ?? Number.POSITIVE_INFINITY
    this.#lastSweep = this.#now()
    // Without IndexedDB (old runtimes, some sandboxes) the store exists but every call reports the reason.
    if (typeof indexedDB !== 'undefined') {
      this.#useStore = createStore(this.dbName, this.storeName)
      this.#useTimes = createStore(this.lruDbName, ACCESS_STORE)
      if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.#onHidden)
    }
  }

  // ---------------------------------------------------------------- Store

  /** Follows the clock of the cache this store is given to (createCache({ now })), unless built with its own. */
  useClock(now: () => number): void {
    if (!this.#clockGiven) this.#now = now
  }

  async get(key: string): Promise<Entry | undefined> {
    const record: unknown = await this.#run('get', key, (useStore) => idbGet(key, useStore))
    return this.#accept(key, record)
  }

  /** One readonly transaction for all keys (idb-keyval getMany). */
  async getMany(keys: readonly string[]): Promise<(Entry | undefined)[]> {
    if (keys.length === 0) return []
    const records: unknown[] = await this.#run('getMany', keys[0] as string, (useStore) => idbGetMany([...keys], useStore))
    return records.map((record, i) => this.#accept(keys[i] as string, record))
  }

  async set(key: string, entry: Entry): Promise<void> {
    await this.setMany([[key, entry]])
  }

  /**
   * One readwrite transaction: the envelopes and a count of entries for `maxEntries`. Their access times join
   * those of reads, written at the next flush.
   */
  async setMany(items: readonly (readonly [key: string, entry: Entry])[]): Promise<void> {
    if (items.length === 0) return
    const now = this.#now()
    const live: [string, unknown][] = []
    const dead: string[] = []
    for (const [key, entry] of items) {
      // An entry whose every window has ended replaces what was there with nothing.
      if (!isLive(entry, now)) dead.push(key)
      else live.push([key, toEnvelope(entry)])
    }
    const write = (): Promise<number> =>
      this.#write('set', items[0]?.[0] as string, (os) => {
        for (const [key, envelope] of live) os.put(envelope, key)
        for (const key of dead) os.delete(key)
        return os.count(ENTRY_KEYS())
      })
    let count: number
    try {
      count = await write()
    } catch (error) {
      if (!isQuotaError(error)) throw error
      // Storage is full: make room (least recently used first) and try once more, else keep going without it.
      await this.#evict('size', new Set(live.map(([key]) => key)))
      try {
        count = await write()
      } catch (again) {
        if (!isQuotaError(again)) throw again
        for (const [key] of live) emitEvict(this.#listeners, key, 'size')
        return
      }
    }
    for (const [key] of live) this.#touch(key, now)
    for (const key of dead) this.#touch(key, null)
    if (count > this.maxEntries) await this.#evict('capacity', new Set(live.map(([key]) => key)))
    this.#maybeSweep(now)
  }

  async delete(key: string): Promise<void> {
    await this.#write('delete', key, (os) => void os.delete(key))
    this.#touch(key, null)
  }

  watch(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.push(listener)
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener)
    }
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * Writes the access times collected since the last flush (to `<dbName>-lru`). Resolves once they and those of
   * every earlier flush are written. Never rejects.
   */
  flush(): Promise<void> {
    clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    if (this.#touched.size === 0 || this.#useTimes === undefined) return Promise.resolve(this.#flushing)
    const batch = [...this.#touched]
    this.#touched = new Map()
    // After the flush before it, so that an older time never lands over a newer one.
    const flushing = Promise.resolve(this.#flushing).then(() => writeBatch(batch, (fn) => this.#writeTimes(fn)))
    this.#flushing = flushing
    void flushing.then(() => {
      if (this.#flushing === flushing) this.#flushing = undefined
    })
    return flushing
  }

  /**
   * Looks at up to `sweepLimit` entries, from where the previous sweep stopped, and deletes the expired and the
   * undecodable ones. Resolves with how many it deleted. Runs on its own in the background; call it to force one.
   */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined
    })
    return this.#sweeping
  }

  /** How many entries the database holds now (all tabs). */
  count(): Promise<number> {
    return this.#run('count', '', (useStore) => useStore('readonly', (os) => promisifyRequest(os.count(ENTRY_KEYS()))))
  }

  /** Deletes every entry and access time. */
  async clear(): Promise<void> {
    this.#touched.clear()
    // After a flush still being written, or its times would outlive the clear.
    const times = Promise.resolve(this.#flushing).then(() => this.#writeTimes((os) => void os.clear()))
    await this.#write('clear', '', (os) => void os.clear())
    await times
  }

  /** Flushes access times, stops timers and listeners, waits for background work and closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.#onHidden)
    // Background work first: a sweep or a dropped expired entry leaves access times to delete in the flush.
    await Promise.allSettled([this.#background.idle(), this.#sweeping, this.#evicting])
    await this.flush()
    this.#closed = true
    clearTimeout(this.#flushTimer)
    const closing = [this.#useStore, this.#timesOpened ? this.#useTimes : undefined].map((useStore) =>
      useStore?.('readonly', (os) => os.transaction.db.close()).catch(noop),
    )
    await Promise.all(closing)
  }

  // ---------------------------------------------------------------- internals

  /** The entry in a record read from the database, or undefined: expired and undecodable records are deleted. */
  #accept(key: string, record: unknown): Entry | undefined {
    if (record === undefined) return undefined
    const entry = fromEnvelope(record)
    const now = this.#now()
    if (!isLive(entry, now)) {
      // Out of the read path: the caller gets its miss now, the deletion runs in its own transaction.
      this.#track(this.#dropIfDead(key))
      return undefined
    }
    this.#touch(key, now)
    this.#maybeSweep(now)
    return entry
  }

  /** Deletes `key` if it is still expired or undecodable: another tab may have written a live entry since the read. */
  async #dropIfDead(key: string): Promise<void> {
    const now = this.#now()
    const dropped = await this.#write('delete', key, (os) => deleteIfDead(os, key, now))
    if (!dropped()) return
    this.#touch(key, null)
    emitEvict(this.#listeners, key, 'expired')
  }

  /** Records that `key` was read or written at `now` (null: that it is gone), for the next flush. */
  #touch(key: string, now: number | null): void {
    this.#touched.set(key, now)
    // Never inside the read: a full batch brings the flush forward to a task of its own, else the interval runs.
    const soon = this.#touched.size >= this.#flushBatch
    if (this.#flushTimer !== undefined && (this.#flushSoon || !soon)) return
    clearTimeout(this.#flushTimer)
    this.#flushSoon = soon
    this.#flushTimer = setTimeout(
      () => {
        this.#flushTimer = undefined
        this.#track(this.flush())
      },
      soon ? 0 : this.#flushInterval,
    )
    unrefTimer(this.#flushTimer)
  }

  #maybeSweep(now: number): void {
    if (now - this.#lastSweep < this.#sweepInterval || this.#sweeping !== undefined) return
    this.#lastSweep = now
    // A macrotask later: the sweep's transaction must not queue in front of the operation that triggered it.
    const timer = setTimeout(() => this.#track(this.sweep()), 0)
    unrefTimer(timer)
  }

  async #sweep(): Promise<number> {
    const now = this.#now()
    const from = this.#sweepFrom
    const removed: string[] = []
    const [next, legacy] = await this.#write('sweep', from ?? '', (os) => sweepEntries(os, from, this.#sweepLimit, now, removed))
    this.#sweepFrom = next
    for (const key of removed) {
      this.#touch(key, null)
      emitEvict(this.#listeners, key, 'expired')
      legacy.delete(key)
    }
    if (legacy.size > 0) {
      await this.#writeTimes((os) => {
        for (const [key, at] of legacy) putTime(os, key, at, 'later')
      })
    }
    return removed.length
  }

  /** The least-recently-used eviction (indexeddb-eviction.ts), after the ones running; flushes the access times first. */
  #evict(reason: 'capacity' | 'size', keep: ReadonlySet<string>): Promise<void> {
    const run = async (): Promise<void> => {
      await this.flush()
      await evict(
        reason,
        keep,
        this.maxEntries,
        this.#now(),
        this.#readTimes(),
        (fn) => this.#write('evict', '', fn),
        (fn) => this.#writeTimes(fn),
        (key) => {
          this.#touched.delete(key)
          emitEvict(this.#listeners, key, reason)
        },
      )
    }
    // Concurrent writers over the limit share one eviction, then each checks again on its next write.
    const evicting = Promise.resolve(this.#evicting).then(run, run)
    this.#evicting = evicting
    void evicting.finally(() => {
      if (this.#evicting === evicting) this.#evicting = undefined
    }).catch(noop)
    return evicting
  }

  /** Every stored access time, in one readonly transaction of `<dbName>-lru`. */
  #readTimes(): Promise<Map<string, number>> {
    this.#timesOpened = true
    return this.#run('evict', '', (_, useTimes) => readTimes(useTimes))
  }

  /**
   * A readwrite transaction of `<dbName>-lru`. Never rejects: access order is advice for eviction, and losing a
   * write (quota, a closed or failing database) only makes it rougher.
   */
  async #writeTimes(fn: (os: IDBObjectStore) => void): Promise<void> {
    if (this.#useTimes === undefined) return
    this.#timesOpened = true
    try {
      await this.#run('access', '', (_, useTimes) => writeTransaction(useTimes, fn))
    } catch {
      // See above.
    }
  }

  /** A readwrite transaction of the entries running `fn`; resolves with fn's result once it committed. */
  #write<T>(operation: string, key: string, fn: (os: IDBObjectStore) => T | IDBRequest<T> | Promise<T>): Promise<T> {
    return this.#run(operation, key, (useStore) => writeTransaction(useStore, fn))
  }

  #run<T>(operation: string, key: string, fn: (useEntries: UseStore, useTimes: UseStore) => Promise<T>): Promise<T> {
    return runTransaction(this, this.#closed, this.#useStore, this.#useTimes, operation, key, fn)
  }

  #track(promise: Promise<unknown>): void {
    this.#background.track(promise, undefined)
  }
}
