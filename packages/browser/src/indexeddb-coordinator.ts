import { CacheError, nextStamp, type Coordinator, type Duration, type Lock } from '@tiercache/core'
import { createStore, type UseStore } from 'idb-keyval'
import { assertOptions, Background, noop, optionalDuration, optionalFunction, optionalString, TagStamps } from '@tiercache/core/kit'
import { describeFailure, transactionDone } from './idb.js'
import { adopted, issuing as announce } from './stamp-relay.js'
import { tryLock, webLocks } from './web-locks.js'

/**
 * Options of `indexedDbCoordinator`.
 *
 * @example
 * const options: IndexedDbCoordinatorOptions = { dbName: 'my-app', tagTtl: '7d' }
 */
export interface IndexedDbCoordinatorOptions {
  /**
   * The app's IndexedDB name, the one given to `indexedDbStore`. Tag times get a database of their own,
   * `<dbName>-tags`: idb-keyval creates one object store per database, so they cannot live beside the entries.
   * @default 'tiercache' (database 'tiercache-tags')
   */
  dbName?: string
  /**
   * How long a tag's stamp is kept. A record is useless once every entry that could carry the tag has
   * expired, so this must be at least the longest a tagged entry lives in a persistent tier (ttl + swr +
   * staleIfError, or the indexedDbStore's `maxTtl`; for createCachedFetch, the response's lifetime plus `retain`).
   * @default '30d'
   */
  tagTtl?: Duration
  /** Clock (epoch ms) for stamps and `tagTtl`. Give it the cache's clock when you inject one. @default Date.now */
  now?: () => number
  /**
   * Where IndexedDB failures go (code 'COORDINATOR_ERROR'); the coordinator keeps working in memory.
   * @default console.warn
   */
  onError?: (error: CacheError) => void
}

/** The object store inside `<dbName>-tags`: namespaced tag -> its stamp; STAMP_KEY -> the current stamp. */
const STORE_NAME = 'tags'
/** Where the current stamp lives: a number key, which no (string) tag can be. */
const STAMP_KEY = 0
/** How often a long-lived page prunes, at most (besides once per page load, when it finds old records). */
const PRUNE_EVERY = 86_400_000


/**
 * A Coordinator whose stamps persist in IndexedDB (idb-keyval's `createStore`), so that an `invalidateTags` still
 * holds after a reload: the IndexedDB tier keeps entries across page loads, and now so does the record of which
 * of them are dead. The current stamp lives in IndexedDB too, shared by the tabs of the origin.
 *
 * - The first call (`stamp`, `tagStamp` or `invalidateTags`, or `ready()`) reads every stored stamp into memory in
 *   one transaction. Until that read is done they answer with a Promise; afterwards synchronously, from memory,
 *   like core's `memoryCoordinator` (a memory hit then needs no await).
 * - `invalidateTags` marks the tags invalidated in this page at once, then issues the next stamp in one readwrite
 *   transaction (after the stored stamp, whichever tab wrote it: `nextStamp(stored, now)`), records it on the stamp
 *   and on each tag, and resolves with it once the write committed.
 * - Other tabs: a tab opened later reads the record. Tabs already open learn of it from `broadcastInvalidation`,
 *   whose message carries the sender's stamp once committed: their `cache.invalidateTags` then records that stamp
 *   (on a coordinator of the same database) instead of issuing a later one, so what the sender loaded right after
 *   its invalidation stays alive in every tab.
 * - Records older than `tagTtl` are dropped: by the first read of each page load when it finds any, and at most
 *   once a day from `invalidateTags`.
 * - Locks across tabs on the Web Locks API (`navigator.locks`), where the browser has it: two tabs missing one key
 *   load it once, the other waits for IndexedDB (core's lockWait). The browser releases a closed tab's locks, so its
 *   waiters load themselves. Without the API, `lock` is undefined and each tab loads on its own.
 * - Failures never reach the cache's callers. Where IndexedDB is unavailable (`indexedDB` undefined, blocked
 *   storage, `open()` failing) it works in memory, as `memoryCoordinator` does, and reports once to `onError`.
 *   If reading the stored times fails, it answers from what this page recorded: entries are served as if the
 *   earlier invalidations never happened (rather than every tagged entry being dead). A failed write keeps the
 *   invalidation in this page (and the open tabs); only a later page load will not know it. Each is reported.
 *
 * @example
 * const cache = createCache({
 *   tiers: [memoryStore(), indexedDbStore({ dbName: 'my-app' })],
 *   coordinator: indexedDbCoordinator({ dbName: 'my-app' }),
 * })
 * await cache.invalidateTags(['products']) // still true after a reload
 */
export function indexedDbCoordinator(options: IndexedDbCoordinatorOptions = {}): IndexedDbCoordinator {
  return new IndexedDbCoordinator(options)
}

/**
 * The coordinator `indexedDbCoordinator()` returns; besides the Coordinator methods it can preload, prune and close.
 *
 * @example
 * const coordinator = indexedDbCoordinator({ dbName: 'my-app' })
 * await coordinator.ready() // stamp and tagStamp answer synchronously from here on
 * await coordinator.close()
 */
export class IndexedDbCoordinator implements Coordinator {
  readonly name = 'indexeddb'
  /** The database holding the stamps: `<dbName>-tags`. */
  readonly databaseName: string
  /** How long a tag's stamp is kept, in ms. */
  readonly tagTtl: number
  /** Soft records (`'%soft:' + tag`, see Coordinator.softRecords) are read with the rest, from memory. */
  readonly softRecords = true
  /** Per-key locks shared by the origin's tabs (Web Locks); absent where the browser has no `navigator.locks`. */
  readonly lock?: (key: string, ttlMs: number) => Promise<Lock | undefined>

  readonly #useStore: UseStore | undefined
  readonly #now: () => number
  readonly #onError: (error: CacheError) => void
  /**
   * The stamps known here (core/kit's TagStamps, shared by every coordinator): the greatest of all, and each namespaced
   * tag's, read from IndexedDB or recorded by this page. It holds every stored record, so an absent tag is 0.
   */
  readonly #stamps: TagStamps
  /** Whether #stamps holds what IndexedDB held (or reading it failed, or there is no IndexedDB). */
  #loaded: boolean
  #loading: Promise<void> | undefined
  #lastPrune: number
  #pruning: Promise<number> | undefined
  #reportedUnavailable = false
  #closed = false
  /** Background work nobody waits for (stamp writes, pruning): close() waits for it. */
  readonly #background = new Background()

  constructor(options: IndexedDbCoordinatorOptions = {}) {
    assertOptions(options, 'indexedDbCoordinator(options)', true)
    this.databaseName = `${optionalString(options.dbName, 'options.dbName') ?? 'tiercache'}-tags`
    this.tagTtl = optionalDuration(options.tagTtl, 'options.tagTtl', undefined, { positive: true }) ?? 30 * 86_400_000
    this.#now = optionalFunction(options.now, 'options.now') ?? Date.now
    this.#onError = optionalFunction(options.onError, 'options.onError') ?? warn
    this.#lastPrune = this.#now()
    this.#stamps = new TagStamps({ trustFor: Number.POSITIVE_INFINITY, maxTags: Number.POSITIVE_INFINITY, now: this.#now, whole: true })
    // Without IndexedDB (old runtimes, some sandboxes) it is a memory coordinator from the start.
    this.#useStore = typeof indexedDB === 'undefined' ? undefined : createStore(this.databaseName, STORE_NAME)
    this.#loaded = this.#useStore === undefined
    const locks = webLocks()
    if (locks !== undefined) this.lock = (key, ttlMs) => tryLock(locks, `tiercache:${this.databaseName}:${key}`, ttlMs)
  }

  // ---------------------------------------------------------------- Coordinator

  stamp(): number | Promise<number> {
    if (!this.#loaded) return this.ready().then(() => this.#stamps.loadStamp())
    return this.#stamps.loadStamp()
  }

  tagStamp(tags: readonly string[]): number | Promise<number> {
    if (!this.#loaded) return this.ready().then(() => this.#stamps.tagStamp(tags) as number)
    return this.#stamps.tagStamp(tags)
  }

  invalidateTags(tags: readonly string[]): Promise<number> {
    const adopt = adopted(this.databaseName)
    if (tags.length === 0) return Promise.resolve(this.#stamps.current)
    const work = adopt === undefined ? this.#invalidate(tags) : this.#adopt(tags, adopt)
    announce(this.databaseName, work)
    return work
  }

  /** Another tab's invalidation, relayed: its stamp, stored in IndexedDB by that tab, becomes this page's. */
  async #adopt(tags: readonly string[], stamp: number): Promise<number> {
    if (!this.#loaded) await this.ready()
    this.#stamps.raise(stamp)
    for (const tag of tags) this.#raise(tag, stamp)
    return stamp
  }

  async #invalidate(tags: readonly string[]): Promise<number> {
    // This page stops serving at once, before IndexedDB has answered.
    try {
      return await this.#stamps.invalidate(tags, () => this.#issue(tags))
    } finally {
      if (this.#now() - this.#lastPrune >= Math.min(PRUNE_EVERY, this.tagTtl)) this.#track(this.prune())
    }
  }

  /**
   * The next stamp, recorded in IndexedDB on the stamp and every tag in one readwrite transaction; without
   * IndexedDB (or when the write fails, reported) a stamp of this page only, so the invalidation still holds here.
   */
  async #issue(tags: readonly string[]): Promise<number> {
    const useStore = this.#useStore
    if (useStore === undefined || this.#closed) {
      if (useStore === undefined && !this.#reportedUnavailable) {
        this.#reportedUnavailable = true
        this.#report(
          new CacheError('COORDINATOR_ERROR', 'indexeddb coordinator: IndexedDB is not available here (indexedDB is undefined); tag invalidations last until the page is closed'),
        )
      }
      return this.#local(tags)
    }
    await this.ready()
    const write = this.#run('invalidateTags', () =>
      useStore('readwrite', (os) => {
        let stamp = 0
        // Stamps only grow: after the stored stamp (another tab may have issued one since this page read it), after
        // every stamp this page knows, and above what the tags already hold.
        let floor = this.#stamps.current
        const reads = [os.get(STAMP_KEY), ...tags.map((tag) => os.get(tag))]
        let left = reads.length
        for (const read of reads) {
          read.onsuccess = () => {
            if (isTime(read.result) && read.result > floor) floor = read.result
            if (--left > 0) return
            stamp = nextStamp(floor, this.#now())
            os.put(stamp, STAMP_KEY)
            for (const tag of tags) os.put(stamp, tag)
          }
        }
        return transactionDone(os.transaction).then(() => stamp)
      }),
    )
    this.#track(write)
    try {
      return await write
    } catch (error) {
      this.#report(error)
      return this.#local(tags)
    }
  }

  /** A stamp of this page alone (IndexedDB unavailable or failing). */
  #local(tags: readonly string[]): number {
    let floor = this.#stamps.current
    for (const tag of tags) {
      const known = this.#stamps.recorded(tag)
      if (known > floor) floor = known
    }
    return nextStamp(floor, this.#now())
  }

  // ---------------------------------------------------------------- maintenance

  /**
   * Reads the stored stamps into memory, once; resolves when they are there (stamp and tagStamp are then synchronous).
   * Never rejects: a failed read is reported and the coordinator goes on with what this page recorded.
   */
  ready(): Promise<void> {
    if (this.#loaded) return Promise.resolve()
    this.#loading ??= this.#load()
    return this.#loading
  }

  /**
   * Drops tag stamps older than `tagTtl` (stamps read as epoch ms), from memory and from IndexedDB; never the current
   * stamp. Resolves with how many records it deleted from IndexedDB. Runs on its own (see above); call it to force
   * one. Never rejects.
   */
  prune(): Promise<number> {
    this.#pruning ??= this.#prune().finally(() => {
      this.#pruning = undefined
    })
    return this.#pruning
  }

  /** Waits for pending writes and closes the connection. Afterwards it works in memory only. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.allSettled([this.#loading, this.#pruning, this.#background.idle()])
    const useStore = this.#useStore
    if (useStore !== undefined) await useStore('readonly', (os) => os.transaction.db.close()).catch(noop)
  }

  // ---------------------------------------------------------------- internals

  #raise(tag: string, at: number): void {
    this.#stamps.remember(tag, at, 0)
    // A tag's stamp was issued: the current stamp is at least that (records of 0.1 have no stamp record).
    this.#stamps.raise(at)
  }

  async #load(): Promise<void> {
    const useStore = this.#useStore as UseStore
    try {
      const [keys, values] = await this.#run('load', () =>
        useStore('readonly', async (os) => {
          const keys = os.getAllKeys()
          const values = os.getAll()
          await transactionDone(os.transaction)
          return [keys.result, values.result as unknown[]] as const
        }),
      )
      const cutoff = this.#now() - this.tagTtl
      let old = 0
      keys.forEach((tag, i) => {
        const at = values[i]
        if (tag === STAMP_KEY) {
          if (isTime(at)) this.#stamps.raise(at)
        } else if (typeof tag === 'string' && isTime(at) && at > cutoff) this.#raise(tag, at)
        else old++
      })
      if (old > 0 && !this.#closed) this.#track(this.prune())
    } catch (error) {
      // Every tagged entry dead would empty the persistent tier; served as if never invalidated is the lesser harm.
      this.#report(error)
    } finally {
      this.#loaded = true
    }
  }

  async #prune(): Promise<number> {
    const now = this.#now()
    this.#lastPrune = now
    const cutoff = now - this.tagTtl
    this.#stamps.prune(cutoff)
    const useStore = this.#useStore
    if (useStore === undefined || this.#closed) return 0
    let deleted = 0
    try {
      await this.#run('prune', () =>
        useStore('readwrite', (os) => {
          const cursorRequest = os.openCursor()
          cursorRequest.onsuccess = () => {
            const cursor = cursorRequest.result
            if (cursor === null) return
            // Read again in this transaction: another tab may have raised the stamp since.
            if (cursor.key !== STAMP_KEY && (!isTime(cursor.value) || cursor.value <= cutoff)) {
              cursor.delete()
              deleted++
            }
            cursor.continue()
          }
          return transactionDone(os.transaction)
        }),
      )
    } catch (error) {
      this.#report(error)
      return 0
    }
    return deleted
  }

  /** Runs an IndexedDB operation; its failure becomes a CacheError naming the operation and the cause. */
  async #run<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (error) {
      const failure = describeFailure(error, this.databaseName, STORE_NAME, 'is it used by something else?')
      throw new CacheError('COORDINATOR_ERROR', `indexeddb coordinator ${operation} failed: ${failure}`, { cause: error })
    }
  }

  #report(error: unknown): void {
    try {
      this.#onError(error instanceof CacheError ? error : new CacheError('COORDINATOR_ERROR', String(error), { cause: error }))
    } catch {
      // A failing onError is not the coordinator's.
    }
  }

  #track(promise: Promise<unknown>): void {
    this.#background.track(promise, undefined)
  }
}

/** A stored stamp: anything else in the store is ignored, and pruned. */
function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
}

function warn(error: CacheError): void {
  console.warn(`tiercache: ${error.message}`)
}
