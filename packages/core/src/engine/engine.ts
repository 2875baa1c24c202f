// The order of these imports sets the order of the modules in an app's bundle (depth first), which gzip compresses
// better this way: 75 bytes less on each size entry (tools/size). Add new imports where they fit, then measure.
import { KeyedQueue } from './keyed-queue.js'
import { checkFunction, typeOf } from '../duration.js'
import { createEntry, EntryState, type Entry } from '../entry.js'
import { validateTags, type Policy, type ResolvedPolicy } from '../policy.js'
import type { Store, StoreEvent } from '../store.js'
import { Tiers, type FailureReporter } from '../tiered.js'
import { assertSerializable } from '../validate.js'
import { Background, type WaitUntil } from './background.js'
import type { EngineConfig } from './config.js'
import { Instrumentation } from './instrumentation.js'
import { Keys } from './keys.js'
import { Tags } from './tags.js'
import { isThenable, LoaderRunner, type BatchLoader, type BatchPolicy, type Call, type Loader } from './loader.js'
import { Policies } from './policies.js'
import { ReadPath } from './read-path.js'
import { expireTiers, invalidateMode, softTags, type InvalidateOptions } from './soft.js'
import type { Hooks, Host } from './strategy.js'
import { WriteOrder } from './write-order.js'
import { reportLoad, SharedReads, type Pending } from './shared-read.js'
import { Batches } from './batch.js'
import { Loads } from './loads.js'
import { Locks } from './locks.js'
import { foundState, report, type GetManyOrSetOptions, type GetOptions, type GetOrSetOptions, type ReadStatus } from './status.js'

/** Checks per-call options; returns the status to fill, if any. */
function checkOptions(options: { status?: ReadStatus | undefined }): ReadStatus | undefined {
  if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object like { status }, got ${typeOf(options)}`)
  const { status } = options
  if (status !== undefined && (typeof status !== 'object' || status === null)) {
    throw new TypeError(`options.status must be an object for the read to fill in, got ${typeOf(status)}`)
  }
  return status
}

/** A fresh hit under this policy needs nothing beyond its value: no early refresh, refresh-ahead or sliding. */
function isPlain(p: ResolvedPolicy): boolean {
  return !(p.earlyRefresh > 0) && !p.refreshAhead && !p.sliding
}

/** The state every view of one cache shares: tiers, in-flight work, counters; and the single-key data path. */
export class Engine {
  readonly tiers: Tiers
  readonly namespace: string
  readonly waitUntil: WaitUntil | undefined
  readonly inst: Instrumentation
  readonly policies: Policies
  readonly background = new Background()
  readonly batches: Batches
  readonly #keys: Keys
  /** The first tier, when it has the sync capability. */
  readonly #l1: Store | undefined
  readonly #defaults: ResolvedPolicy | undefined
  readonly #now: () => number
  readonly #random: () => number
  readonly #tags: Tags
  readonly #reads: ReadPath
  readonly #loads: Loads
  /** One read-and-decide per key at a time: concurrent callers share it. */
  readonly #pending = new Map<string, Pending>()
  /** getOrSet past the fast path (shared-read.ts). */
  readonly #shared: SharedReads
  /** When each key was last written, so that reads begun before do not copy older values over it. */
  readonly #order = new WriteOrder()
  /** Write-through writes, one key at a time. */
  readonly #writes = new KeyedQueue()
  readonly #check: (value: unknown, name: string) => void
  /** The hooks of options.strategies (see strategy.ts); undefined without strategies. */
  readonly #hooks: Hooks | undefined
  /** Its `read` hook, looked up once. */
  readonly #onRead: ((key: string) => void) | undefined
  /** The default policy asks nothing of a fresh hit (no early refresh, refresh-ahead or sliding): see isPlain. */
  readonly #plainDefaults: boolean
  /** The sync L1 when a call with no policy and no options can take getOrSet's hot path: plain defaults, no read hook. */
  readonly #l1Plain: Store | undefined

  constructor(config: EngineConfig) {
    const { stores, now } = config
    this.namespace = config.namespace
    this.#keys = new Keys(config.namespace, config.maxKeyLength)
    this.#now = now
    this.#random = config.random
    this.inst = new Instrumentation(
      stores.map((store) => store.name),
      now,
    )
    if (config.onEvent !== undefined) this.inst.subscribe(config.onEvent)
    this.waitUntil = config.waitUntil
    const { strategies } = config
    const setup = strategies?.[0]?.setup(strategies)
    this.policies = new Policies(config.policy, this.#keys.prefix, setup?.extend)
    this.#defaults = this.policies.defaults
    this.#plainDefaults = this.#defaults !== undefined && isPlain(this.#defaults)
    const inst = this.inst
    const fail: FailureReporter = (error, tierIndex, key) => inst.emit({ type: 'error', key, tier: error.tier, tierIndex, error, at: now() })
    const { plan } = config
    this.tiers = plan ? plan.tiers(stores, config.tierTimeout, inst.counters, fail, now) : new Tiers(stores, config.tierTimeout, inst.counters, fail, now)
    const check = (this.#check = plan?.check ?? assertSerializable)
    this.#tags = new Tags(config.coordinator, inst, config.tierTimeout)
    this.#reads = new ReadPath(this.tiers, inst, this.#tags, this.background, now, this.#order)
    const locks = new Locks(config.coordinator, config.lockTtl, config.lockWait, config.tierTimeout, this.#reads, inst, this.background, now)
    const runner = new LoaderRunner(inst, now, config.random, this.#keys.prefix, this.#tags, check)
    this.#loads = new Loads(this.#reads, locks, runner, inst, this.background, now, config.random)
    this.batches = new Batches(this.#keys, this.policies, this.#reads, this.#loads, runner, inst, this.background, now)
    this.#hooks = setup?.install(this.host())
    this.#shared = new SharedReads(this.#pending, this.tiers, inst, this.#tags, this.#reads, this.#loads, locks.intent, this.#hooks, now)
    this.#onRead = this.#hooks?.read
    const first = stores[0]
    this.#l1 = first?.getSync !== undefined && first.setSync !== undefined ? first : undefined
    this.#l1Plain = this.#plainDefaults && this.#onRead === undefined ? this.#l1 : undefined
    stores.forEach((store, i) => {
      if (config.injectedNow !== undefined) store.useClock?.(config.injectedNow)
      store.watch?.((event: StoreEvent) => {
        inst.counters.bump(inst.counters.evictions, i)
        if (inst.listening) {
          inst.emit({ type: 'evict', key: this.#keys.unprefix(event.key), tier: store.name, tierIndex: i, reason: event.reason, at: now() })
        }
      })
    })
  }

  // ---------------------------------------------------------------- reads

  getOrSet<V>(
    key: string,
    loader: Loader<V>,
    policy: Partial<Policy> | undefined,
    options: GetOrSetOptions | undefined,
    waitUntil: WaitUntil | undefined,
  ): Promise<V | null> {
    // The hot hit: a key seen before, the default policy, no per-call options. Kept small so that V8 inlines it into
    // the caller; everything else is in #getOrSet and #afterL1.
    const l1 = this.#l1Plain
    if (l1 !== undefined && policy === undefined && options === undefined && typeof loader === 'function') {
      // A key in the memo was checked when it entered it.
      const ref = this.#keys.known(key)
      if (ref !== undefined) {
        let e: Entry | undefined | null
        try {
          e = l1.getSync?.(ref.full, ref)
        } catch {
          // The slow path reads again and reports the failure.
          e = null
        }
        let now = NaN
        if (e !== undefined && e !== null) {
          now = this.#now()
          if (now < e.freshUntil && e.tags === undefined && !this.inst.listening) {
            this.inst.counters.l1Hits++
            return Promise.resolve(e.value as V | null)
          }
        }
        return this.#shared.afterL1(e, now, key, ref.full, loader as Loader<unknown>, this.#defaults as ResolvedPolicy, waitUntil, undefined) as Promise<V | null>
      }
    }
    return this.#getOrSet(key, loader, policy, options, waitUntil)
  }

  #getOrSet<V>(
    key: string,
    loader: Loader<V>,
    policy: Partial<Policy> | undefined,
    options: GetOrSetOptions | undefined,
    waitUntil: WaitUntil | undefined,
  ): Promise<V | null> {
    const keys = this.#keys
    // A key in the memo was checked when it entered it.
    let ref = keys.known(key)
    if (ref === undefined && (typeof key !== 'string' || key.length === 0 || key.length + keys.prefix.length > keys.max)) keys.bad(key, 'key')
    checkFunction(loader, 'loader')
    const p = policy === undefined && this.#defaults !== undefined ? this.#defaults : this.policies.resolve(policy)
    if (ref === undefined) ref = keys.ref(key)
    const full = ref.full
    const onRead = this.#onRead
    if (onRead !== undefined) onRead(key)
    let status: ReadStatus | undefined
    if (options !== undefined) {
      status = checkOptions(options)
      if (options.forceFresh === true) return this.#forceFresh({ key, full, loader: loader as Loader<unknown>, p, waitUntil }, status) as Promise<V | null>
    }
    // A fresh (or swr-stale) hit in a sync L1 answers without allocating an entry or awaiting.
    const l1 = this.#l1
    if (l1 === undefined) return this.#shared.read({ key, full, loader: loader as Loader<unknown>, p, waitUntil }, status) as Promise<V | null>
    let e: Entry | undefined | null
    try {
      e = l1.getSync?.(full, ref)
    } catch {
      // The slow path reads again and reports the failure.
      e = null
    }
    let now = NaN
    if (e !== undefined && e !== null) {
      now = this.#now()
      // The usual hit pays for nothing it does not use: fresh, untagged, nobody listening or asking for status,
      // no early refresh and no strategy hook in the policy.
      if (now < e.freshUntil && e.tags === undefined && status === undefined && !this.inst.listening && (p === this.#defaults ? this.#plainDefaults : isPlain(p))) {
        this.inst.counters.l1Hits++
        return Promise.resolve(e.value as V | null)
      }
    }
    return this.#shared.afterL1(e, now, key, full, loader as Loader<unknown>, p, waitUntil, status) as Promise<V | null>
  }

  async get(key: string, options: GetOptions | undefined, waitUntil: WaitUntil | undefined): Promise<unknown> {
    const full = this.#keys.full(key, 'key')
    const status = options === undefined ? undefined : checkOptions(options)
    const hooks = this.#hooks
    hooks?.read?.(key)
    const found = await this.#reads.find(key, full, 0, waitUntil, true, this.#defaults)
    const { entry } = found
    if (entry === undefined) {
      this.inst.counters.totalMisses++
      if (status !== undefined) report(status, 'miss', -1, this.tiers, undefined)
      return undefined
    }
    if (status !== undefined) {
      report(status, foundState(entry, found.state === EntryState.Fresh), found.tier, this.tiers, entry)
    }
    // Without a loader there is nothing to refresh ahead with; a sliding default policy still slides.
    const p = this.#defaults
    if (p?.sliding === true && found.state === EntryState.Fresh) hooks?.fresh?.({ key, full, loader: undefined, p, waitUntil }, entry, found.tier, this.#now())
    return entry.value
  }

  getManyOrSet<V>(
    keys: readonly string[],
    loadMany: BatchLoader<V>,
    policy: BatchPolicy | undefined,
    waitUntil: WaitUntil | undefined,
    options?: GetManyOrSetOptions,
  ): Promise<(V | null | undefined)[]> {
    let errors: unknown[] | undefined
    if (options !== undefined) {
      if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object like { errors }, got ${typeOf(options)}`)
      errors = options.errors
      if (errors !== undefined && !Array.isArray(errors)) throw new TypeError(`options.errors must be an array for the call to fill in, got ${typeOf(errors)}`)
    }
    const read = this.#hooks?.read
    if (read !== undefined && Array.isArray(keys)) for (const key of keys) if (typeof key === 'string') read(key)
    return this.batches.getManyOrSet(keys, loadMany, policy, waitUntil, errors)
  }

  /** What `cache.hotKeys(n)` answers: the hotKeys strategy's list. */
  hotKeys(n: number): { key: string; reads: number }[] {
    const list = this.#hooks?.hotKeys
    if (list === undefined) throw new TypeError('cache.hotKeys() needs createCache({ strategies: [hotKeys()] })')
    return list(n)
  }

  /** The parts of this engine strategies and warm() work with. */
  host(): Host {
    return {
      keys: this.#keys,
      policies: this.policies,
      tiers: this.tiers,
      reads: this.#reads,
      loads: this.#loads,
      order: this.#order,
      background: this.background,
      now: this.#now,
    }
  }

  /** forceFresh: no tier is read and no running load joined; a new load replaces the one running, if any. */
  #forceFresh(call: Call, status: ReadStatus | undefined): Promise<unknown> {
    this.inst.counters.totalMisses++
    this.#loads.loading.delete(call.full)
    const load = this.#loads.start(call, undefined, this.tiers.length, false)
    return load.promise.then((entry) => {
      if (status !== undefined) reportLoad(status, load, this.tiers)
      return entry.value
    })
  }

  // ---------------------------------------------------------------- writes

  async set(key: string, value: unknown, policy: Partial<Policy> | undefined): Promise<void> {
    const full = this.#keys.full(key, 'key')
    const p = this.policies.resolve(policy)
    if (value !== null && value !== undefined) this.#check(value, 'value')
    // A read begun before this call may answer older data: callers asking from now on read again.
    this.#pending.delete(full)
    let stamp = this.#tags.stamp(key, p.tags !== undefined)
    if (isThenable(stamp)) stamp = await stamp
    const entry = createEntry(value, p, this.#now(), undefined, this.#random, stamp)
    // A load in flight for this key would overwrite the value set here with older data.
    this.#loads.loading.delete(full)
    this.#order.wrote(full)
    const written = this.tiers.writeAll(full, key, entry)
    if (this.inst.listening) this.inst.emit({ type: 'write', key, entry, source: 'set', at: this.#now() })
    await written
  }

  /**
   * Write-through: `persist(value)` first, then every tier; writes of one key run one after another in call order,
   * so the tiers end with the value of the last write the database took.
   */
  async write(key: string, value: unknown, persist: (value: unknown) => unknown, policy: Partial<Policy> | undefined): Promise<void> {
    const full = this.#keys.full(key, 'key')
    checkFunction(persist, 'persist')
    // Bad input throws before the database is touched.
    this.policies.resolve(policy)
    if (value !== null && value !== undefined) this.#check(value, 'value')
    await this.#writes.run(full, async () => {
      await persist(value)
      // Readers that joined a read begun before the database changed get its answer; later ones read again (set).
      await this.set(key, value, policy)
    })
  }

  async delete(key: string): Promise<void> {
    const full = this.#keys.full(key, 'key')
    this.#loads.loading.delete(full)
    this.#pending.delete(full)
    this.#order.wrote(full)
    const deleted = this.tiers.deleteAll(full, key)
    if (this.inst.listening) this.inst.emit({ type: 'delete', key, at: this.#now() })
    await deleted
  }

  /**
   * Expire: the key's entry in every tier becomes stale now, as if its ttl had ended (see expiredAt). A load in
   * flight for the key still answers its callers but does not write (it may hold the data being expired).
   */
  async expire(key: string): Promise<void> {
    const full = this.#keys.full(key, 'key')
    this.#loads.loading.delete(full)
    this.#pending.delete(full)
    this.#order.wrote(full)
    const now = this.#now()
    const written = expireTiers(this.tiers, full, key, now)
    // Emitted at once, like delete: a listener relaying it (another tab) sees it before any await.
    if (this.inst.listening) this.inst.emit({ type: 'expire', key, at: now })
    await written
  }

  /**
   * Hard (default): entries carrying any of the tags are dead. Soft: they are stale (see softState), recorded on
   * each tag's soft record (see SOFT_TAG) through the same coordinator.
   */
  async invalidateTags(tags: readonly string[], options?: InvalidateOptions): Promise<void> {
    validateTags(tags, 'tags')
    const mode = invalidateMode(options)
    if (mode === 'soft' && !this.#tags.soft) {
      const name = this.#tags.coordinator.name
      throw new TypeError(`invalidateTags(tags, { mode: 'soft' }): the coordinator '${name}' keeps no soft records (Coordinator.softRecords); use mode 'hard', or a coordinator that does`)
    }
    if (tags.length === 0) return
    const prefix = this.#keys.prefix
    const prefixed = tags.map((tag) => prefix + tag)
    if (mode === 'hard') {
      // A load that started before this moment may hold the data being invalidated. Its entry is dead on read
      // anyway (created before the invalidation), but later callers must not join it, nor its result overwrite a
      // newer one. After a soft invalidation such a load's entry is merely stale, and joining it is allowed.
      const touched = (work: { tags: readonly string[] | undefined }): boolean => work.tags?.some((tag) => prefixed.includes(tag)) === true
      for (const [full, work] of this.#pending) if (touched(work)) this.#pending.delete(full)
      const loading = this.#loads.loading
      for (const [full, work] of loading) if (touched(work)) loading.delete(full)
    }
    const at = this.#now()
    const recorded = this.#tags.invalidate(mode === 'hard' ? prefixed : softTags(prefixed), at)
    if (this.inst.listening) this.inst.emit({ type: 'invalidate', key: '', tags: [...tags], mode, at })
    await recorded
  }
}
