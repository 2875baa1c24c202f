import {
  CacheError,
  fromEnvelope,
  lastServable,
  toEnvelope,
  type Duration,
  type Entry,
  type EvictionReason,
  type Store,
  type StoreEvent,
} from '@tiercache/core'
import { createStore, get as idbGet, getMany as idbGetMany, promisifyRequest, type UseStore } from 'idb-keyval'
import { assertOptions, Background, optionalDuration, optionalFunction, optionalInteger, optionalString } from '@tiercache/core/kit'
import { transactionDone } from './idb.js'

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

/** The object store of the access-time database `<dbName>-lru`: entry key -> last access (epoch ms). */
const ACCESS_STORE = 'access'
/** Most access times written by one transaction of a flush. */
const FLUSH_CHUNK = 100

/**
 * Entries live under string keys. Databases written by earlier versions also hold access times in the entries
 * object store, under array keys `[key]`: reads keep to the string range, eviction and sweeps move them out.
 */
const ENTRY_KEYS = lazyRange('entries')
const LEGACY_ACCESS_KEYS = lazyRange('legacy')

/** IDBKeyRange is read lazily: this module must load where IndexedDB does not exist (and then act as an empty tier). */
function lazyRange(side: 'entries' | 'legacy'): () => IDBKeyRange {
  let range: IDBKeyRange | undefined
  // Every string sorts below every array in IndexedDB's key order, and [] below every other array.
  return () => (range ??= side === 'entries' ? IDBKeyRange.upperBound([], true) : IDBKeyRange.lowerBound([]))
}

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
    this.#useStore = typeof indexedDB === 'undefined' ? undefined : createStore(this.dbName, this.storeName)
    this.#useTimes = typeof indexedDB === 'undefined' ? undefined : createStore(this.lruDbName, ACCESS_STORE)
    if (this.#useStore !== undefined && typeof document !== 'undefined') {
      document.addEventListener('visibilitychange', this.#onHidden)
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
      if (lastServable(entry) <= now) dead.push(key)
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
        for (const [key] of live) this.#emit(key, 'size')
        return
      }
    }
    for (const [key] of live) this.#touch(key, now)
    for (const key of dead) this.#forget(key)
    if (count > this.maxEntries) await this.#evict('capacity', new Set(live.map(([key]) => key)))
    this.#maybeSweep(now)
  }

  async delete(key: string): Promise<void> {
    await this.#write('delete', key, (os) => {
      os.delete(key)
      return undefined
    })
    this.#forget(key)
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
    if (this.#flushTimer !== undefined) {
      clearTimeout(this.#flushTimer)
      this.#flushTimer = undefined
    }
    if (this.#touched.size === 0 || this.#useTimes === undefined) return this.#flushing ?? Promise.resolve()
    const batch = [...this.#touched]
    this.#touched = new Map()
    // After the flush before it, so that an older time never lands over a newer one.
    const flushing = (this.#flushing ?? Promise.resolve()).then(() => this.#writeBatch(batch))
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
    const times = (this.#flushing ?? Promise.resolve()).then(() =>
      this.#writeTimes((os) => {
        os.clear()
      }),
    )
    await this.#write('clear', '', (os) => {
      os.clear()
      return undefined
    })
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
      useStore?.('readonly', (os) => os.transaction.db.close()).catch(() => undefined),
    )
    await Promise.all(closing)
  }

  // ---------------------------------------------------------------- internals

  /** The entry in a record read from the database, or undefined: expired and undecodable records are deleted. */
  #accept(key: string, record: unknown): Entry | undefined {
    if (record === undefined) return undefined
    const entry = fromEnvelope(record)
    const now = this.#now()
    if (entry === undefined || lastServable(entry) <= now) {
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
    let dropped = false
    await this.#write('delete', key, (os) => {
      const read = os.get(key)
      read.onsuccess = () => {
        const entry = read.result === undefined ? undefined : fromEnvelope(read.result)
        if (read.result !== undefined && (entry === undefined || lastServable(entry) <= now)) {
          os.delete(key)
          dropped = true
        }
      }
      return undefined
    })
    if (!dropped) return
    this.#forget(key)
    this.#emit(key, 'expired')
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

  /** The entry is gone: its access time is deleted at the next flush. */
  #forget(key: string): void {
    this.#touch(key, null)
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
    const limit = this.#sweepLimit
    const removed: string[] = []
    let next: string | undefined
    let legacy = new Map<string, number>()
    await this.#write('sweep', from ?? '', (os) => {
      const takeLegacy = takeLegacyTimes(os)
      const range = from === undefined ? ENTRY_KEYS() : IDBKeyRange.bound(from, [], true, true)
      const cursorRequest = os.openCursor(range)
      let seen = 0
      return new Promise<void>((resolve, reject) => {
        cursorRequest.onerror = () => reject(cursorRequest.error)
        cursorRequest.onsuccess = () => {
          const cursor = cursorRequest.result
          if (cursor === null) {
            next = undefined
            legacy = takeLegacy()
            return resolve()
          }
          const key = cursor.key as string
          const entry = fromEnvelope(cursor.value)
          if (entry === undefined || lastServable(entry) <= now) {
            cursor.delete()
            removed.push(key)
          }
          if (++seen >= limit) {
            next = key
            legacy = takeLegacy()
            return resolve()
          }
          cursor.continue()
        }
      })
    })
    this.#sweepFrom = next
    for (const key of removed) {
      this.#forget(key)
      this.#emit(key, 'expired')
      legacy.delete(key)
    }
    if (legacy.size > 0) {
      await this.#writeTimes((os) => {
        for (const [key, at] of legacy) putTime(os, key, at, 'later')
      })
    }
    return removed.length
  }

  /**
   * Deletes least recently used entries in one transaction: for 'capacity', down to 90% of maxEntries once
   * over it; for 'size' (quota), a quarter of them. Keys in `keep` (just written) go last.
   *
   * Times are read from `<dbName>-lru` first, then one transaction of the entries decides and deletes, then one of
   * the times drops what is gone. Tabs run this concurrently, and between those steps another tab may write or
   * delete: an entry without a time (its tab has not flushed yet, or the time write failed) counts as used now
   * and gets that time; a time without an entry is deleted.
   */
  #evict(reason: 'capacity' | 'size', keep: ReadonlySet<string>): Promise<void> {
    const run = async (): Promise<void> => {
      await this.flush()
      const now = this.#now()
      // Without the times (the database failing) eviction still bounds the store, in key order.
      const times = await this.#readTimes().catch(() => new Map<string, number>())
      const victims: string[] = []
      const untimed: string[] = []
      let present = new Set<string>()
      let legacy = new Map<string, number>()
      await this.#write('evict', '', (os) => {
        const takeLegacy = takeLegacyTimes(os)
        const entryKeys = os.getAllKeys(ENTRY_KEYS())
        return new Promise<void>((resolve, reject) => {
          entryKeys.onerror = () => reject(entryKeys.error)
          // Requests of one transaction complete in order: the legacy times are read by now too.
          entryKeys.onsuccess = () => {
            legacy = takeLegacy()
            const keys = entryKeys.result as string[]
            present = new Set(keys)
            const target = reason === 'capacity' ? this.maxEntries - Math.floor(this.maxEntries / 10) : keys.length - Math.max(1, Math.ceil(keys.length / 4))
            const excess = keys.length - Math.max(0, target)
            const order = keys.map((key) => {
              const at = latest(times.get(key), legacy.get(key))
              if (at === undefined && !keep.has(key)) untimed.push(key)
              return { key, at: keep.has(key) ? Infinity : (at ?? now) }
            })
            if (excess > 0) {
              order.sort((a, b) => a.at - b.at)
              for (let i = 0; i < excess; i++) {
                const { key } = order[i] as { key: string }
                os.delete(key)
                present.delete(key)
                victims.push(key)
              }
            }
            resolve()
          }
        })
      })
      for (const key of victims) {
        this.#touched.delete(key)
        this.#emit(key, reason)
      }
      // The victims' times, and times whose entry is gone (deleted or evicted by another tab, written after a delete).
      const gone = new Set(victims)
      for (const key of times.keys()) if (!present.has(key)) gone.add(key)
      await this.#writeTimes((os) => {
        for (const key of gone) os.delete(key)
        for (const [key, at] of legacy) if (present.has(key)) putTime(os, key, at, 'later')
        for (const key of untimed) if (present.has(key)) putTime(os, key, now, 'absent')
      })
    }
    // Concurrent writers over the limit share one eviction, then each checks again on its next write.
    const evicting = (this.#evicting ?? Promise.resolve()).then(run, run)
    this.#evicting = evicting
    void evicting.finally(() => {
      if (this.#evicting === evicting) this.#evicting = undefined
    }).catch(() => undefined)
    return evicting
  }

  /**
   * Writes a flush's times in transactions of FLUSH_CHUNK, one after the other. Another database or not, a read
   * issued while times are written waits for the writes already sent (measured in Chromium 156: a getMany(100)
   * issued as 1,000 times are written takes ~100 ms instead of ~10; ~20 ms with chunks of 100).
   */
  async #writeBatch(batch: readonly (readonly [key: string, at: number | null])[]): Promise<void> {
    for (let i = 0; i < batch.length; i += FLUSH_CHUNK) {
      await this.#writeTimes((os) => {
        for (const [key, at] of batch.slice(i, i + FLUSH_CHUNK)) {
          if (at === null) os.delete(key)
          else os.put(at, key)
        }
      })
    }
  }

  /** Every stored access time, in one readonly transaction of `<dbName>-lru`. */
  #readTimes(): Promise<Map<string, number>> {
    this.#timesOpened = true
    return this.#run('evict', '', (_, useTimes) =>
      useTimes('readonly', (os) => {
        const keys = os.getAllKeys()
        const values = os.getAll()
        return promisifyRequest(values).then((ats) => {
          const times = new Map<string, number>()
          keys.result.forEach((key, i) => {
            const at = Number(ats[i])
            if (typeof key === 'string' && Number.isFinite(at)) times.set(key, at)
          })
          return times
        })
      }),
    )
  }

  /**
   * A readwrite transaction of `<dbName>-lru`. Never rejects: access order is advice for eviction, and losing a
   * write (quota, a closed or failing database) only makes it rougher.
   */
  async #writeTimes(fn: (os: IDBObjectStore) => void): Promise<void> {
    if (this.#useTimes === undefined) return
    this.#timesOpened = true
    try {
      await this.#write('access', '', fn, 'times')
    } catch {
      // See above.
    }
  }

  /** A readwrite transaction (of the entries, or of the times) running `fn`; resolves with fn's result once it committed. */
  #write<T>(
    operation: string,
    key: string,
    fn: (os: IDBObjectStore) => T | IDBRequest<T> | Promise<T>,
    db: 'entries' | 'times' = 'entries',
  ): Promise<T> {
    return this.#run(operation, key, (useEntries, useTimes) =>
      (db === 'entries' ? useEntries : useTimes)('readwrite', async (os) => {
        const committed = transactionDone(os.transaction)
        // A failing request aborts the transaction: its error arrives through `committed`.
        committed.catch(() => undefined)
        const out = fn(os)
        const result = out instanceof IDBRequest ? undefined : await out
        await committed
        // A request's result is there once its transaction has committed.
        return out instanceof IDBRequest ? (out.result as T) : (result as T)
      }),
    )
  }

  async #run<T>(operation: string, key: string, fn: (useEntries: UseStore, useTimes: UseStore) => Promise<T>): Promise<T> {
    if (this.#closed) throw new CacheError('TIER_ERROR', `${this.name} is closed`, { tier: this.name, key })
    const useStore = this.#useStore
    const useTimes = this.#useTimes
    if (useStore === undefined || useTimes === undefined) {
      throw new CacheError('TIER_ERROR', `${this.name}: IndexedDB is not available here (indexedDB is undefined); the tier acts empty`, {
        tier: this.name,
        key,
      })
    }
    try {
      return await fn(useStore, useTimes)
    } catch (error) {
      throw this.#wrap(error, operation, key)
    }
  }

  #wrap(error: unknown, operation: string, key: string): unknown {
    if (error instanceof CacheError || isQuotaError(error)) return error
    const name = (error as { name?: unknown } | null)?.name
    const message = error instanceof Error || error instanceof DOMException ? error.message : String(error)
    const hint =
      name === 'NotFoundError'
        ? ` (database ${JSON.stringify(this.dbName)} has no object store ${JSON.stringify(this.storeName)}: idb-keyval creates one object store per database, use another dbName)`
        : ''
    return new CacheError('TIER_ERROR', `${this.name} ${operation} failed: ${String(name ?? 'Error')}: ${message}${hint}`, {
      tier: this.name,
      key,
      cause: error,
    })
  }

  #emit(key: string, reason: EvictionReason): void {
    for (const listener of this.#listeners) {
      try {
        listener({ type: 'evict', key, reason })
      } catch {
        // A listener's failure is not the store's.
      }
    }
  }

  #track(promise: Promise<unknown>): void {
    this.#background.track(promise, undefined)
  }
}

/**
 * Whether an error means storage is full (Chromium and Firefox name it differently across versions).
 *
 * @example
 * try { await set(key, value, useStore) } catch (error) { if (isQuotaError(error)) makeRoom() }
 */
export function isQuotaError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED'
}

/**
 * Reads and deletes the access times an earlier version kept in the entries object store (array keys `[key]`):
 * call the returned function once a later request of the same transaction has succeeded.
 */
function takeLegacyTimes(os: IDBObjectStore): () => Map<string, number> {
  const keys = os.getAllKeys(LEGACY_ACCESS_KEYS())
  const values = os.getAll(LEGACY_ACCESS_KEYS())
  os.delete(LEGACY_ACCESS_KEYS())
  return () => {
    const times = new Map<string, number>()
    keys.result.forEach((k, i) => {
      const key = Array.isArray(k) ? k[0] : undefined
      const at = Number(values.result[i])
      if (typeof key === 'string' && Number.isFinite(at)) times.set(key, latest(times.get(key), at) as number)
    })
    return times
  }
}

/** Puts an access time unless a later one is stored ('later'), or unless any is stored ('absent'). */
function putTime(os: IDBObjectStore, key: string, at: number, unless: 'later' | 'absent'): void {
  const read = os.get(key)
  read.onsuccess = () => {
    const stored = read.result === undefined ? undefined : Number(read.result)
    if (stored === undefined || (unless === 'later' && !(stored >= at))) os.put(at, key)
  }
}

function latest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b)
}


function unrefTimer(timer: unknown): void {
  ;(timer as { unref?: () => void }).unref?.()
}
