import { cacheControl, type CacheControlOptions } from './cache-control.js'
import { memoryCoordinator, type Coordinator, type Lock } from './coordinator.js'
import { parseDuration, typeOf, type Duration } from './duration.js'
import { createEntry, entryState, EntryState, type Entry } from './entry.js'
import { CacheError, describeError } from './errors.js'
import { resolvePolicy, validateTags, type Policy, type ResolvedPolicy } from './policy.js'
import { createAbortController, defaultClock, sleep, withDeadline, type AbortSignalLike } from './runtime.js'
import { Counters, type CacheEvent, type CacheStats } from './stats.js'
import type { Store, StoreEvent } from './store.js'
import { MemoryStore } from './stores/memory.js'
import { Tiers } from './tiered.js'
import { assertKey, assertSerializable, MAX_KEY_LENGTH } from './validate.js'

/** Hands background work (fills, refreshes, writes) to the host, e.g. a Worker's `ctx.waitUntil`. */
export type WaitUntil = (promise: Promise<unknown>) => void

export interface CacheOptions {
  /** Stores ordered fastest to slowest: tiers[0] is L1. */
  tiers: readonly Store[]
  /** Prefixed to every key and tag; change it ('v2') to drop everything at once. @default '' */
  namespace?: string
  /** Defaults for every call; a call's policy is merged over it. */
  policy?: Policy
  /** Host for background work. @default none: background work runs on its own, tracked by `idle()` */
  waitUntil?: WaitUntil
  /** Shared tag invalidation times and locks. @default an in-process memoryCoordinator() */
  coordinator?: Coordinator
  /** Clock in epoch ms. @default Date.now (in Node read at most every millisecond or 16 calls) */
  now?: () => number
  /** Every hit, miss, stale answer, load, error, fill and eviction. Exceptions it throws are ignored. */
  onEvent?: (event: CacheEvent) => void
  /** A store operation slower than this counts as a miss (or a failed write). @default '1s' */
  tierTimeout?: Duration
  /** How long a coordinator lock on a loading key lasts at most. @default '10s' */
  lockTtl?: Duration
  /** How long a process that did not get the lock waits for the shared tiers before loading itself. @default '2s' */
  lockWait?: Duration
  /** Longest key, namespace included. @default 1024 */
  maxKeyLength?: number
  /** Random numbers in [0, 1) for jitter and early refresh. @default Math.random */
  random?: () => number
}

/** What a loader gets: its key, an abort signal (hardTimeout), the stale value if one exists, and setPolicy. */
export interface LoaderContext<V = unknown> {
  /** The key as the caller gave it. */
  readonly key: string
  /** Aborted when the policy's hardTimeout passes. */
  readonly signal: AbortSignalLike
  /** The value of the stale entry this load replaces, if any (e.g. to revalidate with its ETag). */
  readonly staleValue: V | undefined
  /** Overrides the policy of the entry being loaded (e.g. a shorter ttl for a volatile value). */
  setPolicy(policy: Partial<Policy>): void
  /** True for a refresh nobody waits on (stale-while-revalidate, early refresh), false when a caller waits. */
  readonly background: boolean
}

export type Loader<V> = (context: LoaderContext<V>) => V | null | undefined | Promise<V | null | undefined>

/** What a batch loader gets. */
export interface BatchLoaderContext {
  readonly signal: AbortSignalLike
  /** Overrides the policy of every entry of this batch (merged over each key's own). */
  setPolicy(policy: Partial<Policy>): void
}

/** The policy of a batch: one for every key, or one per key (e.g. its own tags); undefined = the cache's. */
export type BatchPolicy = Partial<Policy> | ((key: string) => Partial<Policy> | undefined)

/** Loads the values of `keys`, aligned with them; null or undefined = not found. */
export type BatchLoader<V> = (
  keys: string[],
  context: BatchLoaderContext,
) => readonly (V | null | undefined)[] | Promise<readonly (V | null | undefined)[]>

/** The cache: one policy over ordered tiers. */
export interface Cache {
  /** Cache-aside: the cached value, or the loader's (stored in every tier). null = cached "not found". */
  getOrSet<V>(key: string, loader: Loader<V>, policy?: Partial<Policy>): Promise<V | null>
  /** The servable value (fresh, or stale within swr), undefined for a miss, null for a cached "not found". */
  get<V = unknown>(key: string): Promise<V | null | undefined>
  /** Writes through to every tier. null or undefined stores a "not found". Tier failures are reported, not thrown. */
  set<V>(key: string, value: V | null | undefined, policy?: Partial<Policy>): Promise<void>
  /** Removes the key from every tier (and stops in-flight loads from writing it back). */
  delete(key: string): Promise<void>
  /** Every entry carrying any of these tags stops being served, in every tier. */
  invalidateTags(tags: readonly string[]): Promise<void>
  /**
   * Values aligned with `keys`: one read per tier for all of them, one loader call for all misses. `policy` may be
   * a function of the key (say, to tag each entry with its own id); the batch's timeouts follow the first key's.
   */
  getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy?: BatchPolicy): Promise<(V | null)[]>
  /** Counters since creation. */
  stats(): CacheStats
  /** A view sharing every state of this cache whose background work goes to this `waitUntil`. */
  withContext(context: { waitUntil?: WaitUntil | undefined }): Cache
  /** The Cache-Control value for a policy (the cache's default when omitted). */
  cacheControl(policy?: Partial<Policy>, options?: CacheControlOptions): string
  /** Resolves once the background work started so far has settled. */
  idle(): Promise<void>
  /** Adds an event listener (like options.onEvent) at run time; returns the function that removes it. */
  subscribe(listener: (event: CacheEvent) => void): () => void
  /** The policy a call with `policy` would use, resolved (durations in ms). */
  resolvePolicy(policy?: Partial<Policy>): ResolvedPolicy
  /** The ordered stores. */
  readonly tiers: readonly Store[]
  readonly namespace: string
}

/** The result of reading the tiers for one key. */
interface Found {
  /** A servable entry: fresh, or stale within swr. */
  entry: Entry | undefined
  tier: number
  state: EntryState
  /** The newest entry usable only if a load fails. */
  fallback: Entry | undefined
  /** The tier holding `fallback`. */
  fallbackTier: number
}

interface Load {
  /** Tags of the policy the load started with, for invalidateTags. */
  tags: readonly string[] | undefined
  promise: Promise<Entry>
  /** The value promise every joining caller shares, made on first need. */
  value: Promise<unknown> | undefined
  /** Set when the loader answered synchronously: the load is already complete and written. */
  entry: Entry | undefined
}

/** One caller's request, as it travels through the slow path. */
interface Call<V = unknown> {
  key: string
  full: string
  loader: Loader<V>
  p: ResolvedPolicy
  waitUntil: WaitUntil | undefined
}

interface Pending {
  tags: readonly string[] | undefined
  entry: Promise<Entry>
  value: Promise<unknown> | undefined
}

const NO_MATCH: Found = { entry: undefined, tier: -1, state: EntryState.Dead, fallback: undefined, fallbackTier: -1 }

/**
 * Creates a cache over ordered tiers.
 *
 * @example
 * const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '5m', swr: '1m' } })
 * const user = await cache.getOrSet(`user:${id}`, () => db.user(id))
 */
export function createCache(options: CacheOptions): Cache {
  return new TieredCache(new Engine(options), undefined)
}

class TieredCache implements Cache {
  readonly #engine: Engine
  readonly #waitUntil: WaitUntil | undefined

  constructor(engine: Engine, waitUntil: WaitUntil | undefined) {
    this.#engine = engine
    this.#waitUntil = waitUntil ?? engine.waitUntil
  }

  get tiers(): readonly Store[] {
    return this.#engine.tiers.stores
  }

  get namespace(): string {
    return this.#engine.namespace
  }

  getOrSet<V>(key: string, loader: Loader<V>, policy?: Partial<Policy>): Promise<V | null> {
    return this.#engine.getOrSet(key, loader, policy, this.#waitUntil)
  }

  get<V = unknown>(key: string): Promise<V | null | undefined> {
    return this.#engine.get(key, this.#waitUntil) as Promise<V | null | undefined>
  }

  set<V>(key: string, value: V | null | undefined, policy?: Partial<Policy>): Promise<void> {
    return this.#engine.set(key, value, policy)
  }

  delete(key: string): Promise<void> {
    return this.#engine.delete(key)
  }

  invalidateTags(tags: readonly string[]): Promise<void> {
    return this.#engine.invalidateTags(tags)
  }

  getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy?: BatchPolicy): Promise<(V | null)[]> {
    return this.#engine.getManyOrSet(keys, loadMany, policy, this.#waitUntil)
  }

  stats(): CacheStats {
    return this.#engine.counters.snapshot()
  }

  withContext(context: { waitUntil?: WaitUntil | undefined }): Cache {
    if (typeof context !== 'object' || context === null) {
      throw new TypeError(`withContext(context) must be an object like { waitUntil }, got ${typeOf(context)}`)
    }
    if (context.waitUntil !== undefined && typeof context.waitUntil !== 'function') {
      throw new TypeError(`context.waitUntil must be a function, got ${typeOf(context.waitUntil)}`)
    }
    return new TieredCache(this.#engine, context.waitUntil)
  }

  cacheControl(policy?: Partial<Policy>, options?: CacheControlOptions): string {
    return cacheControl(this.#engine.policyFor(policy, 'policy'), options)
  }

  idle(): Promise<void> {
    return this.#engine.idle()
  }

  subscribe(listener: (event: CacheEvent) => void): () => void {
    return this.#engine.subscribe(listener)
  }

  resolvePolicy(policy?: Partial<Policy>): ResolvedPolicy {
    return this.#engine.policyFor(policy, 'policy')
  }
}

/** The state every view of one cache shares: tiers, in-flight work, counters. */
class Engine {
  readonly tiers: Tiers
  readonly namespace: string
  readonly waitUntil: WaitUntil | undefined
  readonly counters: Counters
  readonly #prefix: string
  readonly #l1: MemoryStore | undefined
  readonly #defaults: ResolvedPolicy | undefined
  readonly #resolved = new WeakMap<object, ResolvedPolicy>()
  readonly #coordinator: Coordinator
  readonly #now: () => number
  readonly #random: () => number
  /** Whether anyone listens: checked before building an event on hot paths. */
  #listening = false
  #listeners: ((event: CacheEvent) => void)[] = []
  readonly #lockTtl: number
  readonly #lockWait: number
  readonly #maxKeyLength: number
  /** One read-and-decide per key at a time: concurrent callers share it. */
  readonly #pending = new Map<string, Pending>()
  /** One load per key at a time, foreground or background. */
  readonly #loading = new Map<string, Load>()
  readonly #background = new Set<Promise<unknown>>()
  readonly #fullKeys = new Map<string, string>()
  /** Whether loads take the coordinator's lock (it has locks and there are tiers to share). */
  readonly #locking: boolean
  /** A single memory tier: a miss can load at once, with nothing below to read or lock. */
  readonly #direct: boolean

  constructor(options: CacheOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`createCache(options) must be an object like { tiers: [memoryStore()] }, got ${typeOf(options)}`)
    }
    const { tiers } = options
    if (!Array.isArray(tiers) || tiers.length === 0) {
      throw new TypeError('options.tiers must be a non-empty array of stores, fastest first')
    }
    tiers.forEach((store: unknown, i) => {
      const s = store as Partial<Store> | null
      if (
        typeof s !== 'object' ||
        s === null ||
        typeof s.get !== 'function' ||
        typeof s.set !== 'function' ||
        typeof s.delete !== 'function'
      ) {
        throw new TypeError(`options.tiers[${i}] must be a store with get, set and delete, got ${typeOf(store)}`)
      }
      if (typeof s.name !== 'string' || s.name === '') throw new TypeError(`options.tiers[${i}].name must be a non-empty string`)
    })
    for (const name of ['now', 'onEvent', 'waitUntil', 'random'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'function') {
        throw new TypeError(`options.${name} must be a function, got ${typeOf(options[name])}`)
      }
    }
    const namespace = options.namespace ?? ''
    if (typeof namespace !== 'string') throw new TypeError(`options.namespace must be a string, got ${typeOf(namespace)}`)
    if (namespace.length > 128) throw new RangeError(`options.namespace must be at most 128 characters, got ${namespace.length}`)
    const maxKeyLength = options.maxKeyLength ?? MAX_KEY_LENGTH
    if (!Number.isInteger(maxKeyLength) || maxKeyLength < 1) {
      throw new RangeError(`options.maxKeyLength must be a positive integer, got ${String(maxKeyLength)}`)
    }
    const coordinator = options.coordinator ?? memoryCoordinator({ now: options.now })
    if (typeof coordinator.invalidatedAt !== 'function' || typeof coordinator.invalidateTags !== 'function') {
      throw new TypeError('options.coordinator must implement invalidatedAt and invalidateTags')
    }

    this.namespace = namespace
    this.#prefix = namespace === '' ? '' : `${namespace}:`
    this.#maxKeyLength = maxKeyLength
    this.#now = options.now ?? defaultClock()
    this.#random = options.random ?? Math.random
    if (options.onEvent !== undefined) this.subscribe(options.onEvent)
    this.waitUntil = options.waitUntil
    this.#coordinator = coordinator
    this.#lockTtl = parseDuration(options.lockTtl ?? 10_000, 'options.lockTtl')
    this.#lockWait = parseDuration(options.lockWait ?? 2_000, 'options.lockWait')
    this.#defaults = options.policy === undefined ? undefined : resolvePolicy(options.policy, undefined, 'options.policy', this.#prefix)
    this.counters = new Counters(tiers.map((store) => store.name))
    this.tiers = new Tiers(
      tiers,
      parseDuration(options.tierTimeout ?? 1_000, 'options.tierTimeout'),
      this.counters,
      (error, tierIndex, key) => this.#emit({ type: 'error', key, tier: error.tier, tierIndex, error, at: this.#now() }),
      this.#now,
    )
    const first = tiers[0]
    this.#l1 = first instanceof MemoryStore ? first : undefined
    this.#locking = coordinator.lock !== undefined && tiers.length > 1
    this.#direct = this.#l1 !== undefined && tiers.length === 1
    tiers.forEach((store, i) => {
      if (options.now !== undefined) store.useClock?.(options.now)
      store.watch?.((event: StoreEvent) => {
        this.counters.bump(this.counters.evictions, i)
        if (this.#listening) {
          this.#emit({ type: 'evict', key: this.#unprefix(event.key), tier: store.name, tierIndex: i, reason: event.reason, at: this.#now() })
        }
      })
    })
  }

  // ---------------------------------------------------------------- reads

  getOrSet<V>(key: string, loader: Loader<V>, policy: Partial<Policy> | undefined, waitUntil: WaitUntil | undefined): Promise<V | null> {
    if (typeof key !== 'string' || key.length === 0 || key.length + this.#prefix.length > this.#maxKeyLength) this.#badKey(key, 'key')
    if (typeof loader !== 'function') throw new TypeError(`loader must be a function, got ${typeOf(loader)}`)
    const p = policy === undefined && this.#defaults !== undefined ? this.#defaults : this.policyFor(policy, 'policy')
    const full = this.#prefix === '' ? key : this.#prefixed(key)

    // Fast path: a fresh (or swr-stale) L1 memory hit answers without allocating an entry or awaiting.
    const l1 = this.#l1
    if (l1 !== undefined) {
      const slot = l1.find(full)
      if (slot !== -1) {
        const now = this.#now()
        const freshUntil = l1.freshUntilAt(slot)
        if (now < l1.staleUntilAt(slot)) {
          const tags = l1.tagsAt(slot)
          if (tags === undefined || this.#tagsAlive(tags, l1.createdAtAt(slot)) === true) {
            const value = l1.valueAt(slot) as V | null
            if (now < freshUntil) {
              this.counters.bump(this.counters.hits, 0)
              this.counters.totalHits++
              if (p.earlyRefresh > 0 && this.#refreshEarly(p.earlyRefresh, l1.loadMsAt(slot), freshUntil, now)) {
                this.#refresh({ key, full, loader: loader as Loader<unknown>, p, waitUntil }, l1.entryAt(slot), 1)
              }
              if (this.#listening) this.#emit({ type: 'hit', key, tier: l1.name, tierIndex: 0, entry: l1.entryAt(slot), at: now })
            } else {
              this.counters.bump(this.counters.staleHits, 0)
              this.counters.totalStale++
              if (this.#listening) this.#emit({ type: 'stale', key, tier: l1.name, tierIndex: 0, reason: 'swr', entry: l1.entryAt(slot), at: now })
              if (!this.#loading.has(full)) this.#refresh({ key, full, loader: loader as Loader<unknown>, p, waitUntil }, l1.entryAt(slot), 1)
            }
            return Promise.resolve(value)
          }
        }
      } else if (this.#direct) {
        // Nothing cached and nothing below L1: join the load in flight, or load now.
        const running = this.#loading.get(full)
        if (running !== undefined) {
          this.counters.coalesced++
          return (running.value ??= running.promise.then(valueOf)) as Promise<V | null>
        }
        this.counters.bump(this.counters.misses, 0)
        this.counters.totalMisses++
        if (this.#listening) this.#emit({ type: 'miss', key, tier: l1.name, tierIndex: 0, at: this.#now() })
        const load = this.#startLoad({ key, full, loader: loader as Loader<unknown>, p, waitUntil }, undefined, 1, false)
        if (load.entry !== undefined) return Promise.resolve(load.entry.value as V | null)
        return (load.value = load.promise.then(valueOf)) as Promise<V | null>
      }
    }
    return this.#resolveShared({ key, full, loader: loader as Loader<unknown>, p, waitUntil }) as Promise<V | null>
  }

  async get(key: string, waitUntil: WaitUntil | undefined): Promise<unknown> {
    const full = this.#full(key, 'key')
    const found = await this.#find(key, full, 0, waitUntil, true)
    if (found.entry === undefined) {
      this.counters.totalMisses++
      return undefined
    }
    return found.entry.value
  }

  /** Joins or starts the one read-and-decide of this key; joiners share one value promise. */
  #resolveShared(call: Call): Promise<unknown> {
    const shared = this.#pending.get(call.full)
    if (shared !== undefined) {
      this.counters.coalesced++
      return (shared.value ??= shared.entry.then(valueOf))
    }
    const pending: Pending = { tags: call.p.tags, entry: this.#resolve(call), value: undefined }
    this.#pending.set(call.full, pending)
    const clear = (): void => {
      if (this.#pending.get(call.full) === pending) this.#pending.delete(call.full)
    }
    pending.entry.then(clear, clear)
    return (pending.value = pending.entry.then(valueOf))
  }

  async #resolve(call: Call): Promise<Entry> {
    const found = await this.#find(call.key, call.full, 0, call.waitUntil, true)
    const { entry } = found
    if (entry !== undefined) {
      const { earlyRefresh } = call.p
      if (
        found.state === EntryState.Stale ||
        (earlyRefresh > 0 && this.#refreshEarly(earlyRefresh, entry.loadMs ?? Number.NaN, entry.freshUntil, this.#now()))
      ) {
        this.#refresh(call, entry, found.tier + 1)
      }
      return entry
    }
    this.counters.totalMisses++
    return this.#loadInForeground(call, found.fallback, found.fallbackTier)
  }

  /**
   * Reads tiers from `from` down until one has a servable entry; fills the tiers above it with a fresh one.
   * Dead entries (expired, or killed by a tag) are deleted where found.
   */
  async #find(key: string, full: string, from: number, waitUntil: WaitUntil | undefined, count: boolean): Promise<Found> {
    const tiers = this.tiers
    let fallback: Entry | undefined
    let fallbackTier = -1
    for (let i = from; i < tiers.length; i++) {
      const store = tiers.stores[i]
      const entry = store instanceof MemoryStore ? store.peek(full) : await tiers.read(i, full, key)
      const now = this.#now()
      let state = entry === undefined ? EntryState.Dead : entryState(entry, now)
      if (entry !== undefined && state !== EntryState.Dead && entry.tags !== undefined) {
        if (!(await this.#tagsAliveAsync(entry.tags, entry.createdAt, key))) state = EntryState.Dead
      }
      // Expired (a store whose clock runs behind ours) or killed by a tag: nobody may be served it again.
      if (entry !== undefined && state === EntryState.Dead) this.#track(tiers.delete(i, full, key), waitUntil)
      if (entry === undefined || state === EntryState.Dead || state === EntryState.ErrorStale) {
        if (entry !== undefined && state === EntryState.ErrorStale && (fallback === undefined || entry.createdAt > fallback.createdAt)) {
          fallback = entry
          fallbackTier = i
        }
        if (count) {
          this.counters.bump(this.counters.misses, i)
          if (this.#listening) this.#emit({ type: 'miss', key, tier: tiers.stores[i]?.name, tierIndex: i, at: now })
        }
        continue
      }
      if (count) {
        const fresh = state === EntryState.Fresh
        if (fresh) {
          this.counters.bump(this.counters.hits, i)
          this.counters.totalHits++
        } else {
          this.counters.bump(this.counters.staleHits, i)
          this.counters.totalStale++
        }
        if (this.#listening) {
          const tier = tiers.stores[i]?.name
          this.#emit(
            fresh
              ? { type: 'hit', key, tier, tierIndex: i, entry, at: now }
              : { type: 'stale', key, tier, tierIndex: i, reason: 'swr', entry, at: now },
          )
        }
      }
      // Only a fresh entry is copied up: a stale one is about to be replaced by its refresh, and a copy landing
      // after the refresh's own write would bring it back.
      if (i > 0 && state === EntryState.Fresh) this.#fill(key, full, entry, i, waitUntil)
      return { entry, tier: i, state, fallback, fallbackTier }
    }
    return fallback === undefined ? NO_MATCH : { ...NO_MATCH, fallback, fallbackTier }
  }

  /** Copies an entry found in tier `below` into every tier above it. */
  #fill(key: string, full: string, entry: Entry, below: number, waitUntil: WaitUntil | undefined): void {
    const filled = (i: number, ok: boolean): void => {
      if (!ok) return
      this.counters.bump(this.counters.fills, i)
      if (this.#listening) this.#emit({ type: 'fill', key, tier: this.tiers.stores[i]?.name, tierIndex: i, at: this.#now() })
    }
    for (let i = 0; i < below; i++) {
      const store = this.tiers.stores[i]
      if (store instanceof MemoryStore) filled(i, this.tiers.writeNow(i, store, full, key, entry))
      else this.#track(this.tiers.write(i, full, key, entry).then((ok) => filled(i, ok)), waitUntil)
    }
  }

  // ---------------------------------------------------------------- loads

  async #loadInForeground(call: Call, fallback: Entry | undefined, fallbackTier: number): Promise<Entry> {
    const running = this.#loading.get(call.full)
    if (running !== undefined) this.counters.coalesced++
    const load = running ?? this.#startLoad(call, fallback, this.tiers.length, false)
    let promise = load.promise
    if (fallback !== undefined && call.p.timeout > 0) {
      // Soft timeout: the stale value answers after p.timeout; the load goes on and fills the tiers.
      promise = withDeadline(promise, call.p.timeout, () => fallback)
    }
    try {
      const entry = await promise
      if (entry === fallback) {
        this.#servedStale(call.key, 'timeout', fallback, fallbackTier)
        // The load outlives the answer; the host must keep it alive until it has filled the tiers.
        this.#track(load.promise, call.waitUntil)
      }
      return entry
    } catch (error) {
      if (fallback !== undefined && fallback.errorUntil !== undefined && this.#now() < fallback.errorUntil) {
        this.#servedStale(call.key, 'error', fallback, fallbackTier)
        return fallback
      }
      throw error
    }
  }

  /** Starts a background refresh of a stale or early-expiring entry, unless one is already running. */
  #refresh(call: Call, stale: Entry, lookFrom: number): void {
    if (this.#loading.has(call.full)) return
    this.counters.refreshes++
    const load = this.#startLoad(call, stale, lookFrom, true)
    // Failures are already reported as events; the stale value keeps answering.
    this.#track(load.promise.catch(noop), call.waitUntil)
  }

  /**
   * Runs the loader once for this key (registered so that concurrent callers and refreshes join it), after
   * checking tiers from `lookFrom` for a fresher entry and taking the coordinator's lock when there is one.
   */
  #startLoad(call: Call, stale: Entry | undefined, lookFrom: number, background: boolean): Load {
    const { key, full, waitUntil } = call
    const load: Load = { tags: call.p.tags, promise: undefined as unknown as Promise<Entry>, value: undefined, entry: undefined }
    if (lookFrom >= this.tiers.length && !this.#locking) {
      // Nothing to look up or lock first: the loader runs now. An immediate one completes synchronously and is
      // never registered; a promise is registered before anything can join or delete.
      let produced: Entry | Promise<Entry>
      try {
        produced = this.#callLoader(call, stale, background)
      } catch (error) {
        load.promise = Promise.reject(error)
        return load
      }
      if (!isThenable(produced)) {
        this.#commit(key, full, produced, undefined, true, waitUntil)
        load.entry = produced
        load.promise = Promise.resolve(produced)
        return load
      }
      load.promise = produced.then((entry) => {
        this.#commit(key, full, entry, undefined, this.#loading.get(full) === load, waitUntil)
        return entry
      })
    } else {
      load.promise = this.#runLoad(load, call, stale, lookFrom, background)
    }
    this.#loading.set(full, load)
    const clear = (): void => {
      if (this.#loading.get(full) === load) this.#loading.delete(full)
    }
    load.promise.then(clear, clear)
    return load
  }

  /** Writes a loaded entry to every tier unless a delete or newer load claimed the key; releases the lock after. */
  #commit(key: string, full: string, entry: Entry, lock: Lock | undefined, current: boolean, waitUntil: WaitUntil | undefined): void {
    let written: Promise<unknown> | undefined
    if (current) {
      // The load just ended: its start plus its duration is now, without asking the clock again.
      written = this.tiers.writeAll(full, key, entry, entry.createdAt + (entry.loadMs ?? 0))
      if (this.#listening) this.#emit({ type: 'write', key, entry, source: 'load', at: this.#now() })
    }
    if (lock !== undefined) this.#release(lock, written, key, waitUntil)
    else if (written !== undefined) this.#track(written, waitUntil)
  }

  /** Releases a coordinator lock once the shared tiers hold the result, so waiters find it there. */
  #release(lock: Lock, written: Promise<unknown> | undefined, key: string, waitUntil: WaitUntil | undefined): void {
    const release = (written ?? Promise.resolve()).then(() => lock.release()).catch((error: unknown) => this.#coordinatorFailed(error, key))
    this.#track(release, waitUntil)
  }

  async #runLoad(load: Load, call: Call, stale: Entry | undefined, lookFrom: number, background: boolean): Promise<Entry> {
    const { key, full, waitUntil } = call
    // Another process may have refreshed a shared tier already.
    if (lookFrom < this.tiers.length) {
      const found = await this.#find(key, full, lookFrom, waitUntil, false)
      if (found.entry !== undefined && found.state === EntryState.Fresh) {
        this.#fill(key, full, found.entry, found.tier, waitUntil)
        return found.entry
      }
    }
    let lock: Lock | undefined
    if (this.#locking) {
      const outcome = await this.#acquire(key, full, waitUntil)
      if ('entry' in outcome) return outcome.entry
      lock = outcome.lock
    }
    let entry: Entry
    try {
      entry = await this.#callLoader(call, stale, background)
    } catch (error) {
      if (lock !== undefined) this.#release(lock, undefined, key, waitUntil)
      throw error
    }
    this.#commit(key, full, entry, lock, this.#loading.get(full) === load, waitUntil)
    return entry
  }

  /** Takes the coordinator's lock, or waits for whoever holds it to fill a shared tier. */
  async #acquire(key: string, full: string, waitUntil: WaitUntil | undefined): Promise<{ entry: Entry } | { lock: Lock | undefined }> {
    const coordinator = this.#coordinator
    try {
      const lock = await (coordinator.lock as NonNullable<Coordinator['lock']>)(full, this.#lockTtl)
      if (lock !== undefined) return { lock }
    } catch (error) {
      // Without a working coordinator, loading is still correct; only the deduplication is lost.
      this.#coordinatorFailed(error, key)
      return { lock: undefined }
    }
    this.counters.lockWaits++
    let waited = 0
    for (let delay = 10; waited < this.#lockWait; delay = Math.min(delay * 2, 100)) {
      const step = Math.min(delay, this.#lockWait - waited)
      await sleep(step)
      waited += step
      const found = await this.#find(key, full, 0, waitUntil, false)
      if (found.entry !== undefined && found.state === EntryState.Fresh) return { entry: found.entry }
    }
    return { lock: undefined }
  }

  /**
   * Runs the loader and builds its entry. Answers synchronously when the loader does (and no hardTimeout
   * applies), so an immediate loader costs no promise; failures are recorded, then thrown or rejected.
   */
  #callLoader<V>({ key, loader, p }: Call<V>, stale: Entry | undefined, background: boolean): Entry | Promise<Entry> {
    const startedAt = this.#now()
    const context = new Context<V>(key, stale, p, this.#prefix, background)
    let result: V | null | undefined | Promise<V | null | undefined>
    try {
      result = loader(context)
    } catch (error) {
      throw this.#loadFailed(error, key, startedAt, background)
    }
    if (p.hardTimeout > 0) result = this.#hardTimeout(result, p.hardTimeout, context, key)
    if (isThenable(result)) {
      return result.then(
        (value) => this.#loaded(value, context, key, startedAt, background, true),
        (error: unknown) => {
          throw this.#loadFailed(error, key, startedAt, background)
        },
      )
    }
    return this.#loaded(result, context, key, startedAt, background, false)
  }

  #loaded<V>(value: V | null | undefined, context: Context<V>, key: string, startedAt: number, background: boolean, timed: boolean): Entry {
    if (value !== null && value !== undefined) {
      try {
        assertSerializable(value, 'the loaded value')
      } catch (error) {
        throw this.#loadFailed(error, key, startedAt, background)
      }
    }
    // The clock costs about 90 ns on some VMs: a synchronous loader is timed only when someone uses the time.
    const ms = timed || this.#listening || context.policy.earlyRefresh > 0 ? this.#now() - startedAt : 0
    this.counters.loads++
    const entry = createEntry(value, context.policy, startedAt, ms, this.#random)
    if (this.#listening) this.#emit({ type: 'load', key, ms, background, negative: entry.negative === true, at: this.#now() })
    return entry
  }

  /** Records a failed load; returns the caller's own error to rethrow. */
  #loadFailed(error: unknown, key: string, startedAt: number, background: boolean): unknown {
    this.counters.loadErrors++
    if (this.#listening) {
      const wrapped =
        error instanceof CacheError ? error : new CacheError('LOADER_ERROR', `loader for ${key} failed: ${describeError(error)}`, { key, cause: error })
      this.#emit({ type: 'error', key, error: wrapped, ms: this.#now() - startedAt, background, at: this.#now() })
    }
    return error
  }

  /** Awaits a loader's result, aborting its signal and failing with LOADER_TIMEOUT after `ms`. */
  #hardTimeout<T>(result: T | Promise<T>, ms: number, controller: { abort(reason: unknown): void }, key: string): Promise<T> {
    return withDeadline(result, ms, () => {
      const error = new CacheError('LOADER_TIMEOUT', `loader for ${key} ran past hardTimeout (${ms} ms)`, { key })
      controller.abort(error)
      throw error
    })
  }

  /** XFetch: refresh when now - loadMs * beta * ln(random) passes freshUntil. */
  #refreshEarly(beta: number, loadMs: number, freshUntil: number, now: number): boolean {
    if (!(loadMs > 0)) return false
    return now - loadMs * beta * Math.log(this.#random()) >= freshUntil
  }

  // ---------------------------------------------------------------- batch

  async getManyOrSet<V>(
    keys: readonly string[],
    loadMany: BatchLoader<V>,
    policy: BatchPolicy | undefined,
    waitUntil: WaitUntil | undefined,
  ): Promise<(V | null)[]> {
    if (!Array.isArray(keys)) throw new TypeError(`keys must be an array of strings, got ${typeOf(keys)}`)
    if (typeof loadMany !== 'function') throw new TypeError(`loadMany must be a function, got ${typeOf(loadMany)}`)
    const fulls = keys.map((key, i) => this.#full(key, `keys[${i}]`))
    const shared = typeof policy === 'function' ? undefined : this.policyFor(policy, 'policy')
    // Unique keys still unanswered, in first-seen order, with each one's key as given and its policy.
    let open: string[] = []
    const userKey = new Map<string, string>()
    const policies = new Map<string, ResolvedPolicy>()
    fulls.forEach((full, i) => {
      if (userKey.has(full)) return
      const key = keys[i] as string
      userKey.set(full, key)
      open.push(full)
      policies.set(full, shared ?? this.policyFor((policy as (key: string) => Partial<Policy> | undefined)(key), `policy(${JSON.stringify(key)})`))
    })
    const results = new Map<string, Entry>()
    const fallbacks = new Map<string, [Entry, number]>()
    const stale: string[] = []
    for (let i = 0; i < this.tiers.length && open.length > 0; i++) {
      const entries = await this.tiers.readMany(i, open, open.map((full) => userKey.get(full) as string))
      const now = this.#now()
      const next: string[] = []
      const filled: (readonly [string, string, Entry])[] = []
      for (let n = 0; n < open.length; n++) {
        const full = open[n] as string
        const key = userKey.get(full) as string
        const entry = entries[n]
        let state = entry === undefined ? EntryState.Dead : entryState(entry, now)
        if (entry !== undefined && state !== EntryState.Dead && entry.tags !== undefined && !(await this.#tagsAliveAsync(entry.tags, entry.createdAt, key))) {
          state = EntryState.Dead
        }
        if (entry !== undefined && state === EntryState.Dead) this.#track(this.tiers.delete(i, full, key), waitUntil)
        if (entry === undefined || state === EntryState.Dead || state === EntryState.ErrorStale) {
          if (entry !== undefined && state === EntryState.ErrorStale && !fallbacks.has(full)) fallbacks.set(full, [entry, i])
          this.counters.bump(this.counters.misses, i)
          next.push(full)
          continue
        }
        results.set(full, entry)
        if (state === EntryState.Fresh) {
          this.counters.bump(this.counters.hits, i)
          this.counters.totalHits++
        } else {
          this.counters.bump(this.counters.staleHits, i)
          this.counters.totalStale++
          stale.push(full)
        }
        // As in #find: only fresh entries are copied up, a stale one is about to be replaced by its refresh.
        if (i > 0 && state === EntryState.Fresh) filled.push([full, key, entry])
      }
      if (filled.length > 0) this.#fillMany(filled, i, waitUntil)
      open = next
    }

    if (stale.length > 0) {
      const refresh = stale.filter((full) => !this.#loading.has(full))
      if (refresh.length > 0) {
        this.counters.refreshes += refresh.length
        this.#startBatch(refresh, userKey, loadMany, policies, true, waitUntil)
      }
    }

    if (open.length > 0) {
      this.counters.totalMisses += open.length
      // Keys another call is loading already are joined; the rest go to one loadMany call.
      const loads = new Map<string, Promise<Entry>>()
      const missing: string[] = []
      for (const full of open) {
        const running = this.#loading.get(full)
        if (running !== undefined) {
          this.counters.coalesced++
          loads.set(full, running.promise)
        } else missing.push(full)
      }
      if (missing.length > 0) {
        for (const [full, promise] of this.#startBatch(missing, userKey, loadMany, policies, false, waitUntil)) loads.set(full, promise)
      }
      const settled = await Promise.allSettled(open.map((full) => loads.get(full) as Promise<Entry>))
      const now = this.#now()
      let failure: unknown
      settled.forEach((outcome, n) => {
        const full = open[n] as string
        if (outcome.status === 'fulfilled') {
          results.set(full, outcome.value)
          return
        }
        const [fallback, tier] = fallbacks.get(full) ?? []
        if (fallback?.errorUntil !== undefined && now < fallback.errorUntil) {
          this.#servedStale(userKey.get(full) as string, 'error', fallback, tier as number)
          results.set(full, fallback)
        } else failure ??= outcome.reason
      })
      if (failure !== undefined) throw failure
    }
    return fulls.map((full) => (results.get(full) as Entry).value as V | null)
  }

  /**
   * One loadMany call for `fulls`, registered per key so that single-key callers join it. Its entries are written
   * back together (one setMany per tier) for the keys that no delete or newer load has claimed meanwhile.
   */
  #startBatch<V>(
    fulls: string[],
    userKey: Map<string, string>,
    loadMany: BatchLoader<V>,
    policies: Map<string, ResolvedPolicy>,
    background: boolean,
    waitUntil: WaitUntil | undefined,
  ): Map<string, Promise<Entry>> {
    const keys = fulls.map((full) => userKey.get(full) as string)
    const own = fulls.map((full) => policies.get(full) as ResolvedPolicy)
    const batch = this.#callBatch(keys, loadMany, own, background)
    const loads: Load[] = own.map((p) => ({ tags: p.tags, promise: undefined as unknown as Promise<Entry>, value: undefined, entry: undefined }))
    // Attached before the per-key handlers below, so it runs while every key is still registered.
    const written = batch.then((entries) => {
      const items: (readonly [string, string, Entry])[] = []
      fulls.forEach((full, n) => {
        if (this.#loading.get(full) === loads[n]) items.push([full, keys[n] as string, entries[n] as Entry])
      })
      if (items.length === 0) return undefined
      if (this.#listening) {
        for (const [, key, entry] of items) this.#emit({ type: 'write', key, entry, source: 'load', at: this.#now() })
      }
      return Promise.all(this.tiers.stores.map((_, i) => this.tiers.writeMany(i, items)))
    })
    this.#track(written, waitUntil)
    const out = new Map<string, Promise<Entry>>()
    fulls.forEach((full, n) => {
      const load = loads[n] as Load
      load.promise = batch.then((entries) => entries[n] as Entry)
      this.#loading.set(full, load)
      const clear = (): void => {
        if (this.#loading.get(full) === load) this.#loading.delete(full)
      }
      load.promise.then(clear, clear)
      out.set(full, load.promise)
    })
    return out
  }

  /** One loadMany call; `policies` are each key's, and the first one's timeouts apply to the whole batch. */
  async #callBatch<V>(keys: string[], loadMany: BatchLoader<V>, policies: ResolvedPolicy[], background: boolean): Promise<Entry[]> {
    const startedAt = this.#now()
    const controller = createAbortController()
    const p = policies[0] as ResolvedPolicy
    let override: Partial<Policy> | undefined
    const context: BatchLoaderContext = {
      signal: controller.signal,
      setPolicy: (given) => {
        resolvePolicy(given, p, 'ctx.setPolicy(policy)', this.#prefix)
        override = given
      },
    }
    let values: readonly (V | null | undefined)[]
    try {
      const result = loadMany([...keys], context)
      values = p.hardTimeout > 0 ? await this.#hardTimeout(result, p.hardTimeout, controller, keys[0] as string) : await result
      if (!Array.isArray(values) || values.length !== keys.length) {
        throw new TypeError(
          `loadMany must resolve to an array aligned with its ${keys.length} keys, got ${Array.isArray(values) ? `${values.length} values` : typeOf(values)}`,
        )
      }
      values.forEach((value, n) => {
        if (value !== null && value !== undefined) assertSerializable(value, `the loaded value for ${keys[n]}`)
      })
    } catch (error) {
      this.counters.loadErrors++
      const wrapped = new CacheError('LOADER_ERROR', `loadMany for ${keys.length} keys failed: ${describeError(error)}`, { key: keys[0], cause: error })
      this.#emit({ type: 'error', key: keys[0] as string, error: wrapped, ms: this.#now() - startedAt, background, at: this.#now() })
      throw error
    }
    const ms = this.#now() - startedAt
    this.counters.loads++
    return values.map((value, n) => {
      const own = policies[n] as ResolvedPolicy
      const policy = override === undefined ? own : resolvePolicy(override, own, 'ctx.setPolicy(policy)', this.#prefix)
      const entry = createEntry(value, policy, startedAt, ms, this.#random)
      if (this.#listening) {
        this.#emit({ type: 'load', key: keys[n] as string, ms, background, negative: entry.negative === true, at: this.#now() })
      }
      return entry
    })
  }

  #fillMany(items: (readonly [string, string, Entry])[], below: number, waitUntil: WaitUntil | undefined): void {
    for (let i = 0; i < below; i++) {
      this.#track(
        this.tiers.writeMany(i, items).then((ok) => {
          if (ok) this.counters.bump(this.counters.fills, i, items.length)
        }),
        waitUntil,
      )
    }
  }

  // ---------------------------------------------------------------- writes

  async set(key: string, value: unknown, policy: Partial<Policy> | undefined): Promise<void> {
    const full = this.#full(key, 'key')
    const p = this.policyFor(policy, 'policy')
    if (value !== null && value !== undefined) assertSerializable(value, 'value')
    const entry = createEntry(value, p, this.#now(), undefined, this.#random)
    // A load in flight for this key would overwrite the value set here with older data.
    this.#loading.delete(full)
    const written = this.tiers.writeAll(full, key, entry)
    if (this.#listening) this.#emit({ type: 'write', key, entry, source: 'set', at: this.#now() })
    await written
  }

  async delete(key: string): Promise<void> {
    const full = this.#full(key, 'key')
    this.#loading.delete(full)
    this.#pending.delete(full)
    const deleted = this.tiers.deleteAll(full, key)
    if (this.#listening) this.#emit({ type: 'delete', key, at: this.#now() })
    await deleted
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    validateTags(tags, 'tags')
    if (tags.length === 0) return
    const prefixed = tags.map((tag) => this.#prefix + tag)
    // A load that started before this moment may hold the data being invalidated. Its entry is dead on read anyway
    // (created before the invalidation), but later callers must not join it, nor its result overwrite a newer one.
    const touched = (work: { tags: readonly string[] | undefined }): boolean => work.tags?.some((tag) => prefixed.includes(tag)) === true
    for (const [full, work] of this.#pending) if (touched(work)) this.#pending.delete(full)
    for (const [full, work] of this.#loading) if (touched(work)) this.#loading.delete(full)
    const at = this.#now()
    const recorded = this.#coordinator.invalidateTags(prefixed, at)
    if (this.#listening) this.#emit({ type: 'invalidate', key: '', tags: [...tags], at })
    await recorded
  }

  // ---------------------------------------------------------------- helpers

  policyFor(policy: Partial<Policy> | undefined, where: string): ResolvedPolicy {
    if (policy === undefined) return resolvePolicy(undefined, this.#defaults, where, this.#prefix)
    if (typeof policy === 'object' && policy !== null) {
      const known = this.#resolved.get(policy)
      if (known !== undefined) return known
    }
    const resolved = resolvePolicy(policy, this.#defaults, where, this.#prefix)
    this.#resolved.set(policy, resolved)
    return resolved
  }

  idle(): Promise<void> {
    if (this.#background.size === 0) return Promise.resolve()
    return Promise.allSettled([...this.#background]).then(() => this.idle())
  }

  #full(key: string, name: string): string {
    if (typeof key !== 'string' || key.length === 0 || key.length + this.#prefix.length > this.#maxKeyLength) this.#badKey(key, name)
    return this.#prefix === '' ? key : this.#prefixed(key)
  }

  /**
   * prefix + key, memoized: the caller's key string carries a cached hash, a fresh concatenation must be hashed
   * (and flattened) again on every lookup, which costs more than the rest of a hit.
   */
  #prefixed(key: string): string {
    let full = this.#fullKeys.get(key)
    if (full === undefined) {
      if (this.#fullKeys.size >= 10_000) this.#fullKeys.clear()
      full = this.#prefix + key
      this.#fullKeys.set(key, full)
    }
    return full
  }

  #badKey(key: unknown, name: string): never {
    assertKey(key, name, this.#maxKeyLength - this.#prefix.length)
    throw new RangeError(`${name} is invalid`)
  }

  #unprefix(full: string): string {
    return this.#prefix !== '' && full.startsWith(this.#prefix) ? full.slice(this.#prefix.length) : full
  }

  /** true when no tag was invalidated after createdAt, false when one was, undefined when the answer is async. */
  #tagsAlive(tags: readonly string[], createdAt: number): boolean | undefined {
    try {
      const at = this.#coordinator.invalidatedAt(tags)
      if (typeof at === 'number') return at < createdAt
      // The slow path asks again and reports a failure; this answer is not used.
      at.then(undefined, noop)
      return undefined
    } catch {
      return undefined
    }
  }

  async #tagsAliveAsync(tags: readonly string[], createdAt: number, key: string): Promise<boolean> {
    try {
      return (await this.#coordinator.invalidatedAt(tags)) < createdAt
    } catch (error) {
      // Serving what the tiers hold beats failing the request; the failure is reported.
      this.#coordinatorFailed(error, key)
      return true
    }
  }

  #coordinatorFailed(error: unknown, key: string): void {
    const wrapped = new CacheError('COORDINATOR_ERROR', `coordinator ${this.#coordinator.name} failed: ${describeError(error)}`, { key, cause: error })
    this.#emit({ type: 'error', key, error: wrapped, at: this.#now() })
  }

  #servedStale(key: string, reason: 'error' | 'timeout', entry: Entry, tierIndex: number): void {
    this.counters.totalStale++
    this.counters.totalMisses--
    if (tierIndex >= 0) this.counters.bump(this.counters.staleHits, tierIndex)
    if (this.#listening) {
      const tier = tierIndex >= 0 ? this.tiers.stores[tierIndex]?.name : undefined
      this.#emit({ type: 'stale', key, tier, tierIndex: tierIndex >= 0 ? tierIndex : undefined, reason, entry, at: this.#now() })
    }
  }

  /** Background work: handed to waitUntil when there is one, always tracked for idle(), never rejecting. */
  #track(promise: Promise<unknown>, waitUntil: WaitUntil | undefined): void {
    const settled = promise.then(noop, noop)
    this.#background.add(settled)
    void settled.then(() => this.#background.delete(settled))
    if (waitUntil !== undefined) {
      try {
        waitUntil(settled)
      } catch {
        // A host that refuses background work (a finished request) leaves it to run on its own.
      }
    }
  }

  subscribe(listener: (event: CacheEvent) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError(`listener must be a function, got ${typeOf(listener)}`)
    this.#listeners = [...this.#listeners, listener]
    this.#listening = true
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener)
      this.#listening = this.#listeners.length > 0
    }
  }

  #emit(event: CacheEvent): void {
    if (!this.#listening) return
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure must not break the request that triggered the event.
      }
    }
  }
}

function valueOf(entry: Entry): unknown {
  return entry.value
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** What a loader receives; its abort controller is only built when the signal is read or a hard timeout fires. */
class Context<V> implements LoaderContext<V> {
  readonly key: string
  readonly staleValue: V | undefined
  readonly background: boolean
  policy: ResolvedPolicy
  readonly #base: ResolvedPolicy
  readonly #prefix: string
  #controller: ReturnType<typeof createAbortController> | undefined

  constructor(key: string, stale: Entry | undefined, policy: ResolvedPolicy, prefix: string, background: boolean) {
    this.key = key
    this.background = background
    this.staleValue = stale === undefined || stale.negative === true ? undefined : (stale.value as V)
    this.policy = policy
    this.#base = policy
    this.#prefix = prefix
  }

  get signal(): AbortSignalLike {
    this.#controller ??= createAbortController()
    return this.#controller.signal
  }

  setPolicy(policy: Partial<Policy>): void {
    this.policy = resolvePolicy(policy, this.#base, 'ctx.setPolicy(policy)', this.#prefix)
  }

  abort(reason: unknown): void {
    this.#controller?.abort(reason)
  }
}

function noop(): void {}
