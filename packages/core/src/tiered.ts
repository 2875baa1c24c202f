import { capEntry, isEntry, type Entry } from './entry.js'
import { CacheError, describeError, type CacheErrorCode } from './errors.js'
import { withDeadline } from './runtime.js'
import type { Counters } from './stats.js'
import type { ReadIntent, Store } from './store.js'

/** How the tier layer tells the cache about failures: it never throws them. */
export type FailureReporter = (error: CacheError, tierIndex: number | undefined, key: string) => void

class TierTimeout extends Error {}

/** A read of one key that ran past its tier's timeout and is still under way (see Tiers.read). */
export interface LateRead {
  lateRead?: Promise<unknown> | undefined
  lateTier?: number
}

/**
 * A plain copy of an entry a store handed out through getSync (possibly a reused view with getters, which a spread
 * would not copy), with only the fields that are set.
 */
export function copyEntry(view: Entry): Entry {
  const entry: Entry = { value: view.value, createdAt: view.createdAt, freshUntil: view.freshUntil, staleUntil: view.staleUntil }
  const { errorUntil, tags, negative, loadMs, stamp } = view
  if (errorUntil !== undefined) entry.errorUntil = errorUntil
  if (tags !== undefined) entry.tags = tags
  if (negative === true) entry.negative = true
  if (loadMs !== undefined) entry.loadMs = loadMs
  if (stamp !== undefined) entry.stamp = stamp
  return entry
}

/**
 * I/O with the ordered stores, at the tier boundary: a store that throws, rejects, hangs past its timeout or
 * returns something that is not an entry becomes a miss (or a skipped write) plus a reported CacheError.
 * No method here rejects.
 */
export class Tiers {
  readonly stores: readonly Store[]
  readonly #timeouts: number[]
  readonly #counters: Counters
  readonly #fail: FailureReporter
  readonly #now: () => number

  constructor(stores: readonly Store[], tierTimeout: number, counters: Counters, fail: FailureReporter, now: () => number) {
    this.stores = stores
    this.#timeouts = stores.map((store) => store.timeout ?? tierTimeout)
    this.#counters = counters
    this.#fail = fail
    this.#now = now
  }

  get length(): number {
    return this.stores.length
  }

  /**
   * Tiers with codecs that re-encrypt (CodecTiers): when `entry`, as a read of tier `i` returned it, was stored under
   * an encryption key that is no longer current, writes it to tier `i` again under the current one, unless `stale()`
   * says by then that the key was written since; resolves true when written. Undefined when there is nothing to do
   * (or the bound of writes in flight is reached).
   */
  rewrite?(i: number, full: string, key: string, entry: Entry, stale: () => boolean): Promise<boolean> | undefined

  /**
   * The entry in tier `i`, or undefined on a miss or any failure. A read that runs past its timeout goes on: when
   * `late` has none yet, it is given that read (what the store will answer, as stored: see adopt) and `i`.
   */
  async read(i: number, full: string, key: string, intent?: ReadIntent, late?: LateRead): Promise<Entry | undefined> {
    const store = this.stores[i] as Store
    let found: unknown
    let work: Promise<unknown> | undefined
    try {
      work = intent === undefined ? store.get(full) : store.get(full, intent)
      found = await this.#guard(i, work)
    } catch (error) {
      if (late !== undefined && late.lateRead === undefined && error instanceof TierTimeout) {
        late.lateRead = work
        late.lateTier = i
      }
      this.#failed(i, error, 'get', key)
      return undefined
    }
    return this.#checked(i, full, key, found)
  }

  /**
   * An entry in tier `i`'s stored form that came another way (a lock holder handed it to its waiters), as a read of
   * tier `i` would give it; undefined when it is not an entry this tier can read.
   */
  async adopt(i: number, full: string, key: string, entry: Entry): Promise<Entry | undefined> {
    return this.#checked(i, full, key, entry)
  }

  /**
   * The entry in tier `i`, read synchronously through the store's sync capability (`getSync`), as an object of the
   * caller's own; undefined on a miss or any failure.
   */
  readNow(i: number, full: string, key: string): Entry | undefined {
    const store = this.stores[i] as Store
    let found: unknown
    try {
      found = store.getSync?.(full)
    } catch (error) {
      this.#failed(i, error, 'getSync', key)
      return undefined
    }
    const entry = this.#checked(i, full, key, found)
    // The store may hand out one reused view: keep a copy.
    return entry === undefined ? undefined : copyEntry(entry)
  }

  /** Entries of tier `i` aligned with `fulls`, in one round trip when the store has getMany. */
  async readMany(i: number, fulls: readonly string[], keys: readonly string[]): Promise<(Entry | undefined)[]> {
    const store = this.stores[i] as Store
    let found: unknown[]
    try {
      if (store.getMany !== undefined) {
        found = await this.#guard(i, store.getMany(fulls))
        if (!Array.isArray(found) || found.length !== fulls.length) {
          throw new Error(`getMany returned ${Array.isArray(found) ? found.length : typeof found} results for ${fulls.length} keys`)
        }
      } else {
        found = await this.#guard(i, Promise.all(fulls.map((full) => store.get(full))))
      }
    } catch (error) {
      this.#failed(i, error, 'getMany', keys[0] ?? '')
      return fulls.map(() => undefined)
    }
    return found.map((item, n) => this.#checked(i, fulls[n] as string, keys[n] as string, item))
  }

  /** Writes the entry to tier `i`, ending its windows at the store's maxTtl. Resolves true when written. */
  async write(i: number, full: string, key: string, entry: Entry): Promise<boolean> {
    const store = this.stores[i] as Store
    try {
      await this.#guard(i, store.set(full, this.#capped(store, entry)))
      return true
    } catch (error) {
      this.#failed(i, error, 'set', key)
      return false
    }
  }

  /** Writes several entries to tier `i`, in one round trip when the store has setMany. */
  async writeMany(i: number, items: readonly (readonly [full: string, key: string, entry: Entry])[]): Promise<boolean> {
    const store = this.stores[i] as Store
    try {
      if (store.setMany !== undefined) {
        await this.#guard(i, store.setMany(items.map(([full, , entry]) => [full, this.#capped(store, entry)] as const)))
      } else {
        await this.#guard(i, Promise.all(items.map(([full, , entry]) => store.set(full, this.#capped(store, entry)))))
      }
      return true
    } catch (error) {
      this.#failed(i, error, 'setMany', items[0]?.[1] ?? '')
      return false
    }
  }

  /**
   * Writes to every tier concurrently; resolves when every write settled. Stores with the sync capability are
   * written synchronously, and when all of them are, there is no promise at all (undefined).
   */
  writeAll(full: string, key: string, entry: Entry, now?: number): Promise<unknown> | undefined {
    let writes: Promise<boolean>[] | undefined
    for (let i = 0; i < this.stores.length; i++) {
      if ((this.stores[i] as Store).setSync !== undefined) this.writeNow(i, full, key, entry, now)
      else (writes ??= []).push(this.write(i, full, key, entry))
    }
    if (writes === undefined) return undefined
    return writes.length === 1 ? writes[0] : Promise.all(writes)
  }

  /** Writes into tier `i` at once through its sync capability (`setSync`); true when written. */
  writeNow(i: number, full: string, key: string, entry: Entry, now?: number): boolean {
    const store = this.stores[i] as Store
    try {
      store.setSync?.(full, this.#capped(store, entry, now), now)
      return true
    } catch (error) {
      this.#failed(i, error, 'set', key)
      return false
    }
  }

  async delete(i: number, full: string, key: string): Promise<void> {
    try {
      await this.#guard(i, (this.stores[i] as Store).delete(full))
    } catch (error) {
      this.#failed(i, error, 'delete', key)
    }
  }

  deleteAll(full: string, key: string): Promise<unknown> {
    return Promise.all(this.stores.map((_, i) => this.delete(i, full, key)))
  }

  #capped(store: Store, entry: Entry, now?: number): Entry {
    return store.maxTtl === undefined ? entry : capEntry(entry, (now ?? this.#now()) + store.maxTtl)
  }

  /**
   * Whether tier `i` decodes entries that a codec encoded (Entry.codec): only the codec layer's tiers do
   * (`@tiercache/core/codec`); here such an entry is a miss, left in place for the processes that can read it.
   */
  protected decodes(_i: number): boolean {
    return false
  }

  #checked(i: number, full: string, key: string, found: unknown): Entry | undefined {
    if (found === undefined || found === null) return undefined
    const entry = isEntry(found) ? found : undefined
    if (entry !== undefined && (entry.codec === undefined || this.decodes(i))) return entry
    const store = this.stores[i] as Store
    this.#counters.bump(this.#counters.errors, i)
    this.#fail(
      entry === undefined
        ? new CacheError('DECODE_ERROR', `tier ${store.name} returned something that is not an entry for key ${key}; deleting it`, { tier: store.name, key })
        : new CacheError('CODEC_MISMATCH', `tier ${store.name}: ${key} is ${entry.codec}, and no codec here`, { tier: store.name, key }),
      i,
      key,
    )
    if (entry === undefined) void this.delete(i, full, key)
    return undefined
  }

  #guard<T>(i: number, operation: Promise<T>): Promise<T> {
    const ms = this.#timeouts[i] as number
    if (ms === 0) return operation
    return withDeadline(operation, ms, () => {
      throw new TierTimeout()
    })
  }

  #failed(i: number, error: unknown, operation: string, key: string): void {
    const store = this.stores[i] as Store
    const timedOut = error instanceof TierTimeout
    const code: CacheErrorCode = timedOut ? 'TIER_TIMEOUT' : 'TIER_ERROR'
    const message = timedOut
      ? `tier ${store.name} did not answer ${operation} within ${this.#timeouts[i]} ms`
      : `tier ${store.name} failed on ${operation}: ${describeError(error)}`
    this.#counters.bump(this.#counters.errors, i)
    this.#fail(new CacheError(code, message, { tier: store.name, key, cause: timedOut ? undefined : error }), i, key)
  }
}
