import { cacheControl, type CacheControlOptions } from './cache-control.js'
import type { TierCodecs } from './codec.js'
import { localCoordinator, type ClockCoordinator, type Coordinator } from './coordinator.js'
import { checkFunction, parseDuration, typeOf, type Duration } from './duration.js'
import { TRACK, type WaitUntil } from './engine/background.js'
import { Engine } from './engine/engine.js'
import type { HotKey } from './engine/hot-keys.js'
import type { InvalidateOptions } from './engine/soft.js'
import type { BatchLoader, BatchPolicy, Loader } from './engine/loader.js'
import type { GetManyOrSetOptions, GetOptions, GetOrSetOptions } from './engine/status.js'
import type { Installable, Strategy } from './engine/strategy.js'
import type { Policy, ResolvedPolicy } from './policy.js'
import { defaultClock } from './runtime.js'
import type { CacheEvent, CacheStats } from './stats.js'
import type { Store } from './store.js'
import { assertSerializable, assertWellFormed, MAX_KEY_LENGTH } from './validate.js'

export type { WaitUntil } from './engine/background.js'
export type { BatchLoader, BatchLoaderContext, BatchPolicy, Loader, LoaderContext } from './engine/loader.js'
export type { AnswerState, GetManyOrSetOptions, GetOptions, GetOrSetOptions, ReadStatus } from './engine/status.js'
export type { InvalidateOptions } from './engine/soft.js'

export interface CacheOptions {
  /** Stores ordered fastest to slowest: tiers[0] is L1. */
  tiers: readonly Store[]
  /**
   * Prefixed to every key and tag (escaped: ':' and '%' inside it are written '%3A' and '%25', then ':'), so caches
   * with different namespaces sharing a store never read or invalidate each other's entries; change it ('v2') to
   * drop everything at once. @default ''
   */
  namespace?: string
  /** Defaults for every call; a call's policy is merged over it. */
  policy?: Policy
  /** Host for background work. @default none: background work runs on its own, tracked by `idle()` */
  waitUntil?: WaitUntil
  /**
   * Shared tag stamps and locks (see Coordinator). A 0.1 coordinator (`invalidatedAt`, a ClockCoordinator) is still
   * accepted and keeps 0.1's clock-comparing rule. @default in-process tag stamps, without locks (a coordinator no
   * other cache shares has no one to lock against): memoryCoordinator() shares them and locks between caches
   */
  coordinator?: Coordinator | ClockCoordinator
  /** Clock in epoch ms. @default Date.now (in Node read at most every millisecond or 16 calls) */
  now?: () => number
  /** Every hit, miss, stale answer, load, error, fill and eviction. Exceptions it throws are ignored. */
  onEvent?: (event: CacheEvent) => void
  /**
   * A store operation slower than this counts as a miss (or a failed write). The read of the tiers and the
   * coordinator's lock request share one such budget: a miss waits at most tierTimeout + lockWait. @default '1s'
   */
  tierTimeout?: Duration
  /** How long a coordinator lock on a loading key lasts at most. @default '10s' */
  lockTtl?: Duration
  /** How long a process that did not get the lock waits for the holder (by the clock) before loading itself. @default '2s' */
  lockWait?: Duration
  /** Longest key, namespace included. @default 1024 */
  maxKeyLength?: number
  /** Random numbers in [0, 1) for jitter and early refresh. @default Math.random */
  random?: () => number
  /**
   * How entries are encoded for the tiers outside this process: serializer, compression, encryption, size guard
   * (`createCodec()` from `@tiercache/core/codec`, or `perTier()` to choose one per tier). In-process tiers
   * (memory) keep values in the clear. @default none: values are stored in JSON envelopes as they are
   */
  codec?: TierCodecs
  /**
   * Optional behaviours, each its own module (an app bundles only those it imports): `refreshAhead()` and
   * `slidingExpiry()` serve the policy fields of the same names, `hotKeys()` counts reads for `cache.hotKeys(n)`.
   * @default none
   */
  strategies?: readonly Strategy[]
}

/** The cache: one policy over ordered tiers. */
export interface Cache {
  /**
   * Cache-aside: the cached value, or the loader's (stored in every tier). null = cached "not found".
   * `options.status` is filled in with how the value was answered; `options.forceFresh` skips the tiers.
   */
  getOrSet<V, S = V>(key: string, loader: Loader<V, S>, policy?: Partial<Policy>, options?: GetOrSetOptions): Promise<V | null>
  /**
   * The servable value (fresh, or stale within swr), undefined for a miss, null for a cached "not found".
   * `options.status` is filled in with where it was found ('miss' when nowhere).
   */
  get<V = unknown>(key: string, options?: GetOptions): Promise<V | null | undefined>
  /** Writes through to every tier. null or undefined stores a "not found". Tier failures are reported, not thrown. */
  set<V>(key: string, value: V | null | undefined, policy?: Partial<Policy>): Promise<void>
  /**
   * Write-through: runs `persist(value)` (the database write) and, once it resolved, writes the value to every
   * tier. If `persist` throws, nothing is cached and the error reaches the caller. Writes of one key run one after
   * another in call order; loads and reads begun before a write cannot put their older value back over it in this
   * process.
   *
   * @example
   * await cache.write(`user:${id}`, user, (u) => db.users.update(id, u))
   */
  write<V>(key: string, value: V, persist: (value: V) => unknown, policy?: Partial<Policy>): Promise<void>
  /** Removes the key from every tier (and stops in-flight loads from writing it back). */
  delete(key: string): Promise<void>
  /**
   * Hard (default): every entry carrying any of these tags stops being served, in every tier. Soft
   * (`{ mode: 'soft' }`): those entries turn stale instead, served within their stale-while-revalidate window while
   * one refresh runs (an entry without one is kept only as the fallback of a failed load, within stale-if-error).
   * Both go through the coordinator, so every process sharing it stops serving them as fresh.
   *
   * @example
   * await cache.invalidateTags(['products'], { mode: 'soft' }) // readers keep getting answers while one reloads
   */
  invalidateTags(tags: readonly string[], options?: InvalidateOptions): Promise<void>
  /**
   * The soft counterpart of delete: the key's entry in every tier becomes stale now, as if its ttl had just ended
   * (served for its stale-while-revalidate length while one refresh runs, then a fallback for its stale-if-error
   * length; gone at once without either). A load of the key in flight does not write its answer.
   */
  expire(key: string): Promise<void>
  /**
   * Values aligned with `keys`: one read per tier for all of them, one loader call for all misses. `policy` may be
   * a function of the key (say, to tag each entry with its own id); the batch's timeouts follow the first key's.
   * A key whose load failed with no stale copy to answer fails the whole call, unless `options.errors` is given:
   * then that key resolves to `undefined`, its error at its index in `options.errors`, and the others get values.
   */
  getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy: BatchPolicy | undefined, options: GetManyOrSetOptions & { errors: unknown[] }): Promise<(V | null | undefined)[]>
  getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy?: BatchPolicy, options?: GetManyOrSetOptions): Promise<(V | null)[]>
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
  /**
   * The `n` most read keys since the cache was created (getOrSet, get, getManyOrSet; hits and misses), most read
   * first, with estimated counts: to save at shutdown and `warm()` at start. Needs the `hotKeys()` strategy.
   */
  hotKeys(n: number): HotKey[]
  /** The ordered stores. */
  readonly tiers: readonly Store[]
  readonly namespace: string
}

/** Every key of CacheOptions: createCache rejects any other, naming it. */
const CACHE_OPTIONS = new Set([
  'tiers',
  'namespace',
  'policy',
  'waitUntil',
  'coordinator',
  'now',
  'onEvent',
  'tierTimeout',
  'lockTtl',
  'lockWait',
  'maxKeyLength',
  'random',
  'codec',
  'strategies',
])

/**
 * Creates a cache over ordered tiers.
 *
 * @example
 * const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '5m', swr: '1m' } })
 * const user = await cache.getOrSet(`user:${id}`, () => db.user(id))
 */
export function createCache(options: CacheOptions): Cache {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`createCache(options) must be an object like { tiers: [memoryStore()] }, got ${typeOf(options)}`)
  }
  // A misspelt or newer option must not silently do nothing.
  for (const name of Object.keys(options)) {
    if (!CACHE_OPTIONS.has(name)) throw new TypeError(`options.${name} is not a createCache option (known: ${[...CACHE_OPTIONS].join(', ')})`)
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
    checkFunction(options[name], `options.${name}`, true)
  }
  const namespace = options.namespace ?? ''
  if (typeof namespace !== 'string') throw new TypeError(`options.namespace must be a string, got ${typeOf(namespace)}`)
  if (namespace.length > 128) throw new RangeError(`options.namespace must be at most 128 characters, got ${namespace.length}`)
  assertWellFormed(namespace, 'options.namespace')
  const maxKeyLength = options.maxKeyLength ?? MAX_KEY_LENGTH
  if (!Number.isInteger(maxKeyLength) || maxKeyLength < 1) {
    throw new RangeError(`options.maxKeyLength must be a positive integer, got ${String(maxKeyLength)}`)
  }
  const coordinator = options.coordinator ?? localCoordinator(options.now ?? Date.now)
  checkCoordinator(coordinator)
  const now = options.now ?? defaultClock()
  const lockTtl = parseDuration(options.lockTtl ?? 10_000, 'options.lockTtl')
  const lockWait = parseDuration(options.lockWait ?? 2_000, 'options.lockWait')
  const tierTimeout = parseDuration(options.tierTimeout ?? 1_000, 'options.tierTimeout')
  const { codec } = options
  if (codec !== undefined && typeof codec?.plan !== 'function') throw new TypeError('options.codec must come from createCodec() or perTier()')
  const { strategies } = options
  if (strategies !== undefined && (!Array.isArray(strategies) || strategies.some((s: Partial<Installable> | null) => typeof s?.setup !== 'function'))) {
    throw new TypeError('options.strategies must be an array of refreshAhead(), slidingExpiry(), hotKeys()')
  }
  const engine = new Engine({
    plan: codec?.plan(tiers, assertSerializable),
    stores: tiers,
    namespace,
    maxKeyLength,
    policy: options.policy,
    coordinator,
    now,
    injectedNow: options.now,
    random: options.random ?? Math.random,
    onEvent: options.onEvent,
    waitUntil: options.waitUntil,
    tierTimeout,
    lockTtl,
    lockWait,
    strategies: strategies as readonly Installable[] | undefined,
  })
  return new TieredCache(engine, undefined)
}

/** The engine and background host behind a cache made by createCache (for warm()); undefined for other objects. */
export let internals: (cache: object) => { engine: Engine; waitUntil: WaitUntil | undefined } | undefined

/** A view of an engine whose background work goes to one waitUntil (the cache's own, or withContext's). */
class TieredCache implements Cache {
  readonly #engine: Engine
  readonly #waitUntil: WaitUntil | undefined

  static {
    internals = (cache) => (#engine in cache ? { engine: cache.#engine, waitUntil: cache.#waitUntil } : undefined)
  }

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

  getOrSet<V, S = V>(key: string, loader: Loader<V, S>, policy?: Partial<Policy>, options?: GetOrSetOptions): Promise<V | null> {
    return this.#engine.getOrSet(key, loader as unknown as Loader<V>, policy, options, this.#waitUntil)
  }

  get<V = unknown>(key: string, options?: GetOptions): Promise<V | null | undefined> {
    return this.#engine.get(key, options, this.#waitUntil) as Promise<V | null | undefined>
  }

  set<V>(key: string, value: V | null | undefined, policy?: Partial<Policy>): Promise<void> {
    return this.#engine.set(key, value, policy)
  }

  write<V>(key: string, value: V, persist: (value: V) => unknown, policy?: Partial<Policy>): Promise<void> {
    return this.#engine.write(key, value, persist as (value: unknown) => unknown, policy)
  }

  delete(key: string): Promise<void> {
    return this.#engine.delete(key)
  }

  invalidateTags(tags: readonly string[], options?: InvalidateOptions): Promise<void> {
    return this.#engine.invalidateTags(tags, options)
  }

  expire(key: string): Promise<void> {
    return this.#engine.expire(key)
  }

  getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy: BatchPolicy | undefined, options: GetManyOrSetOptions & { errors: unknown[] }): Promise<(V | null | undefined)[]>
  getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy?: BatchPolicy, options?: GetManyOrSetOptions): Promise<(V | null)[]>
  getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy?: BatchPolicy, options?: GetManyOrSetOptions): Promise<(V | null | undefined)[]> {
    return this.#engine.getManyOrSet(keys, loadMany, policy, this.#waitUntil, options)
  }

  stats(): CacheStats {
    return this.#engine.inst.counters.snapshot()
  }

  withContext(context: { waitUntil?: WaitUntil | undefined }): Cache {
    if (typeof context !== 'object' || context === null) {
      throw new TypeError(`withContext(context) must be an object like { waitUntil }, got ${typeOf(context)}`)
    }
    checkFunction(context.waitUntil, 'context.waitUntil', true)
    return new TieredCache(this.#engine, context.waitUntil)
  }

  cacheControl(policy?: Partial<Policy>, options?: CacheControlOptions): string {
    return cacheControl(this.#engine.policies.resolve(policy), options)
  }

  idle(): Promise<void> {
    return this.#engine.background.idle()
  }

  /** Background work another tiercache package started for this cache (kit trackBackground). @internal */
  [TRACK](work: Promise<unknown>): void {
    this.#engine.background.track(work, this.#waitUntil)
  }

  subscribe(listener: (event: CacheEvent) => void): () => void {
    return this.#engine.inst.subscribe(listener)
  }

  resolvePolicy(policy?: Partial<Policy>): ResolvedPolicy {
    return this.#engine.policies.resolve(policy)
  }

  hotKeys(n: number): HotKey[] {
    return this.#engine.hotKeys(n)
  }
}

/** Throws a TypeError naming what is missing unless `coordinator` is a Coordinator (or a 0.1 ClockCoordinator). */
function checkCoordinator(coordinator: unknown): asserts coordinator is Coordinator | ClockCoordinator {
  const c = coordinator as Partial<Record<keyof Coordinator | 'invalidatedAt', unknown>> | null
  if (typeof c !== 'object' || c === null) throw new TypeError(`options.coordinator must be a Coordinator, got ${typeOf(coordinator)}`)
  const stamps = typeof c.tagStamp === 'function' || typeof c.stamp === 'function'
  const needed = stamps || typeof c.invalidatedAt !== 'function' ? (['stamp', 'tagStamp', 'invalidateTags'] as const) : (['invalidatedAt', 'invalidateTags'] as const)
  const missing = needed.filter((method) => typeof c[method] !== 'function')
  if (missing.length > 0) {
    throw new TypeError(
      `options.coordinator must implement stamp(), tagStamp(tags) and invalidateTags(tags) (see Coordinator); it has no ${missing.join(', ')}`,
    )
  }
  checkFunction(c.lock, 'options.coordinator.lock', true)
  checkFunction(c.acquire, 'options.coordinator.acquire', true)
}
