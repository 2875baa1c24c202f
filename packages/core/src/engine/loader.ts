import { typeOf } from '../duration.js'
import { createEntry, type Entry } from '../entry.js'
import { CacheError, describeError } from '../errors.js'
import { resolvePolicy, type Policy, type ResolvedPolicy } from '../policy.js'
import { createAbortController, withDeadline, type AbortSignalLike } from '../runtime.js'
import { invalidLoaded } from '../schema.js'
import { assertSerializable } from '../validate.js'
import type { WaitUntil } from './background.js'
import type { Instrumentation } from './instrumentation.js'
import type { Tags } from './tags.js'

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
  /**
   * Do not store this answer: it goes to this call only. Calls that joined this load do not receive it either;
   * each of them runs its own loader (e.g. a response that sets a cookie must never reach another request).
   */
  skip(): void
  /**
   * Fails this load with `error`, and no stale value answers in its place (no stale-if-error, no soft timeout
   * fallback): for errors a stale value must not hide, like a permanent "gone". Throws `error`.
   *
   * @example
   * if (res.status === 410) ctx.fail(new Error('gone'))
   */
  fail(error: unknown): never
}

/**
 * Produces the value of a key; null or undefined means not found (cached as a negative entry). `S` types
 * `ctx.staleValue`: the value type when it is given (`getOrSet<User>(...)`), unknown when it is inferred from what
 * the loader returns (TypeScript cannot type a parameter from the result of the same function).
 */
export type Loader<V, S = V> = (context: LoaderContext<S>) => V | null | undefined | Promise<V | null | undefined>

/** What a batch loader gets. */
export interface BatchLoaderContext {
  readonly signal: AbortSignalLike
  /** True for a refresh of stale keys nobody waits on, false when a caller waits. */
  readonly background: boolean
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

/** One caller's request, as it travels through the slow path. */
export interface Call<V = unknown> {
  key: string
  full: string
  loader: Loader<V>
  p: ResolvedPolicy
  waitUntil: WaitUntil | undefined
  /**
   * When the caller's read of the tiers began: for a load that takes the coordinator's lock (see Locks.acquire), and
   * for how long a failed load waits for a late tier read (see Loads.foreground).
   */
  since?: number
}

/** What a loader said about its own answer through its context; a Load carries them for its joiners. */
export interface LoadFlags {
  /** ctx.skip(): not stored, not shared. */
  skipped: boolean
  /** ctx.fail(error): no stale fallback. */
  noStale: boolean
}

export function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** Runs loaders and batch loaders, turns what they return into entries, and records how it went. */
export class LoaderRunner {
  readonly #inst: Instrumentation
  readonly #now: () => number
  readonly #random: () => number
  readonly #prefix: string
  readonly #check: (value: unknown, name: string) => void
  readonly #tags: Tags

  constructor(
    inst: Instrumentation,
    now: () => number,
    random: () => number,
    tagPrefix: string,
    tags: Tags,
    check: (value: unknown, name: string) => void = assertSerializable,
  ) {
    this.#inst = inst
    this.#now = now
    this.#random = random
    this.#prefix = tagPrefix
    this.#check = check
    this.#tags = tags
  }

  /**
   * Runs the loader and builds its entry, stamped with the coordinator's stamp read just before the loader runs.
   * Answers synchronously when the loader and the stamp do (and no hardTimeout applies), so an immediate loader
   * costs no promise; failures are recorded, then thrown or rejected.
   */
  call<V>(call: Call<V>, stale: Entry | undefined, background: boolean, flags: LoadFlags): Entry | Promise<Entry> {
    const stamp = this.#tags.stamp(call.key, call.p.tags !== undefined)
    if (isThenable(stamp)) return stamp.then((known) => this.#call(call, stale, background, flags, known))
    return this.#call(call, stale, background, flags, stamp)
  }

  #call<V>(
    { key, loader, p }: Call<V>,
    stale: Entry | undefined,
    background: boolean,
    flags: LoadFlags,
    stamp: number | undefined,
  ): Entry | Promise<Entry> {
    const startedAt = this.#now()
    const context = new Context<V>(key, stale, p, this.#prefix, background, flags)
    let result: V | null | undefined | Promise<V | null | undefined>
    try {
      result = loader(context)
    } catch (error) {
      throw this.#failed(error, key, startedAt, background)
    }
    if (p.hardTimeout > 0) result = this.hardTimeout(result, p.hardTimeout, context, key)
    if (isThenable(result)) {
      return result.then(
        (value) => this.#loaded(value, context, key, startedAt, background, true, stamp),
        (error: unknown) => {
          throw this.#failed(error, key, startedAt, background)
        },
      )
    }
    return this.#loaded(result, context, key, startedAt, background, false, stamp)
  }

  #loaded<V>(
    value: V | null | undefined,
    context: Context<V>,
    key: string,
    startedAt: number,
    background: boolean,
    timed: boolean,
    stamp: number | undefined,
  ): Entry | Promise<Entry> {
    const { schema, checkLoaded } = context.policy
    if (value !== null && value !== undefined) {
      let verdict: ReturnType<NonNullable<typeof schema>['~standard']['validate']> | undefined
      try {
        this.#check(value, 'the loaded value')
        if (schema !== undefined && checkLoaded) verdict = schema['~standard'].validate(value)
      } catch (error) {
        throw this.#failed(error, key, startedAt, background)
      }
      if (verdict !== undefined) {
        // A schema may answer at once or asynchronously; an immediate loader stays synchronous with a sync schema.
        const judged = (result: Awaited<typeof verdict>): Entry => {
          if (result.issues !== undefined) throw this.#failed(invalidLoaded(key, result.issues), key, startedAt, background)
          return this.#entry(value, context, key, startedAt, background, timed, stamp)
        }
        return isThenable(verdict)
          ? verdict.then(judged, (error: unknown) => {
              throw this.#failed(error, key, startedAt, background)
            })
          : judged(verdict)
      }
    }
    return this.#entry(value, context, key, startedAt, background, timed, stamp)
  }

  #entry<V>(
    value: V | null | undefined,
    context: Context<V>,
    key: string,
    startedAt: number,
    background: boolean,
    timed: boolean,
    stamp: number | undefined,
  ): Entry {
    const inst = this.#inst
    // The clock costs about 90 ns on some VMs: a synchronous loader is timed only when someone uses the time.
    const ms = timed || inst.listening || context.policy.earlyRefresh > 0 ? this.#now() - startedAt : 0
    inst.counters.loads++
    const entry = createEntry(value, context.policy, startedAt, ms, this.#random, stamp)
    if (inst.listening) inst.emit({ type: 'load', key, ms, background, negative: entry.negative === true, at: this.#now() })
    return entry
  }

  /** Records a failed load; returns the caller's own error to rethrow. */
  #failed(error: unknown, key: string, startedAt: number, background: boolean): unknown {
    const inst = this.#inst
    inst.counters.loadErrors++
    if (inst.listening) {
      const wrapped =
        error instanceof CacheError ? error : new CacheError('LOADER_ERROR', `loader for ${key} failed: ${describeError(error)}`, { key, cause: error })
      inst.emit({ type: 'error', key, error: wrapped, ms: this.#now() - startedAt, background, at: this.#now() })
    }
    return error
  }

  /** Awaits a loader's result, aborting its signal and failing with LOADER_TIMEOUT after `ms`. */
  hardTimeout<T>(result: T | Promise<T>, ms: number, controller: { abort(reason: unknown): void }, key: string): Promise<T> {
    return withDeadline(result, ms, () => {
      const error = new CacheError('LOADER_TIMEOUT', `loader for ${key} ran past hardTimeout (${ms} ms)`, { key })
      controller.abort(error)
      throw error
    })
  }

  /** One loadMany call; `policies` are each key's, and the first one's timeouts apply to the whole batch. */
  async batch<V>(keys: string[], loadMany: BatchLoader<V>, policies: ResolvedPolicy[], background: boolean): Promise<Entry[]> {
    const inst = this.#inst
    // Read before the loader runs: an invalidation after this moment kills what it loads.
    const stamp = await this.#tags.stamp(
      keys[0] as string,
      policies.some((policy) => policy.tags !== undefined),
    )
    const startedAt = this.#now()
    const controller = createAbortController()
    const p = policies[0] as ResolvedPolicy
    let override: Partial<Policy> | undefined
    const context: BatchLoaderContext = {
      signal: controller.signal,
      background,
      setPolicy: (given) => {
        resolvePolicy(given, p, 'ctx.setPolicy(policy)', this.#prefix)
        override = given
      },
    }
    let values: readonly (V | null | undefined)[]
    try {
      const result = loadMany([...keys], context)
      values = p.hardTimeout > 0 ? await this.hardTimeout(result, p.hardTimeout, controller, keys[0] as string) : await result
      if (!Array.isArray(values) || values.length !== keys.length) {
        throw new TypeError(
          `loadMany must resolve to an array aligned with its ${keys.length} keys, got ${Array.isArray(values) ? `${values.length} values` : typeOf(values)}`,
        )
      }
      values.forEach((value, n) => {
        if (value !== null && value !== undefined) this.#check(value, `the loaded value for ${keys[n]}`)
      })
      for (let n = 0; n < values.length; n++) {
        const { schema, checkLoaded } = policies[n] as ResolvedPolicy
        const value = values[n]
        if (schema === undefined || !checkLoaded || value === null || value === undefined) continue
        const result = await schema['~standard'].validate(value)
        if (result.issues !== undefined) throw invalidLoaded(keys[n] as string, result.issues)
      }
    } catch (error) {
      inst.counters.loadErrors++
      const wrapped = new CacheError('LOADER_ERROR', `loadMany for ${keys.length} keys failed: ${describeError(error)}`, { key: keys[0], cause: error })
      inst.emit({ type: 'error', key: keys[0] as string, error: wrapped, ms: this.#now() - startedAt, background, at: this.#now() })
      throw error
    }
    const ms = this.#now() - startedAt
    inst.counters.loads++
    return values.map((value, n) => {
      const own = policies[n] as ResolvedPolicy
      const policy = override === undefined ? own : resolvePolicy(override, own, 'ctx.setPolicy(policy)', this.#prefix)
      const entry = createEntry(value, policy, startedAt, ms, this.#random, stamp)
      if (inst.listening) {
        inst.emit({ type: 'load', key: keys[n] as string, ms, background, negative: entry.negative === true, at: this.#now() })
      }
      return entry
    })
  }
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
  readonly #flags: LoadFlags

  constructor(key: string, stale: Entry | undefined, policy: ResolvedPolicy, prefix: string, background: boolean, flags: LoadFlags) {
    this.key = key
    this.background = background
    this.#flags = flags
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

  skip(): void {
    this.#flags.skipped = true
  }

  fail(error: unknown): never {
    this.#flags.noStale = true
    throw error
  }

  abort(reason: unknown): void {
    this.#controller?.abort(reason)
  }
}
