import { context as contexts } from '@opentelemetry/api'
import { CacheWrapper } from '../cache-wrapper.js'
import type { Cache, WaitUntil } from '../cache.js'
import type { BatchLoader, BatchPolicy, Loader } from '../engine/loader.js'
import type { GetManyOrSetOptions, GetOptions, GetOrSetOptions, ReadStatus } from '../engine/status.js'
import type { Policy } from '../policy.js'
import { ATTR_BATCH_SIZE, SPAN_GET, SPAN_GET_MANY_OR_SET, SPAN_GET_OR_SET } from './names.js'
import type { CallRecord, Telemetry } from './telemetry.js'

/** A cache whose reads are traced and measured; every other call goes straight to the cache it wraps (CacheWrapper). */
export interface InstrumentedCache extends Cache {
  /** A view sharing every state of this cache (and its instrumentation) whose background work goes to this `waitUntil`. */
  withContext(context: { waitUntil?: WaitUntil | undefined }): InstrumentedCache
  /** Stops reporting this cache's counters to the meter (its callback holds the cache until then). */
  detach(): void
  /** The cache this one instruments. */
  readonly instrumented: Cache
}

/** The caller's options with a status to fill in: theirs when they gave one. Bad options go through unchanged. */
function withStatus<O extends { status?: ReadStatus | undefined }>(options: O | undefined): O {
  if (options === undefined) return { status: {} } as O
  if (typeof options !== 'object' || options === null || options.status !== undefined) return options
  return { ...options, status: {} }
}

/** A view of one cache (or of one of its withContext views) that records a span and durations per read. */
export class InstrumentedView extends CacheWrapper implements InstrumentedCache {
  readonly #telemetry: Telemetry

  constructor(cache: Cache, telemetry: Telemetry) {
    super(cache)
    this.#telemetry = telemetry
  }

  get instrumented(): Cache {
    return this.inner
  }

  override getOrSet<V, S = V>(key: string, loader: Loader<V, S>, policy?: Partial<Policy>, options?: GetOrSetOptions): Promise<V | null> {
    const telemetry = this.#telemetry
    const call = telemetry.start('getOrSet', SPAN_GET_OR_SET, key)
    const given = withStatus(options)
    const traced: Loader<V, S> = typeof loader === 'function' ? (ctx) => telemetry.load(call, ctx.background, () => loader(ctx)) : loader
    return this.#run(call, given.status, () => this.inner.getOrSet(key, traced, policy, given))
  }

  override get<V = unknown>(key: string, options?: GetOptions): Promise<V | null | undefined> {
    const call = this.#telemetry.start('get', SPAN_GET, key)
    const given = withStatus(options)
    return this.#run(call, given.status, () => this.inner.get<V>(key, given))
  }

  override getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy: BatchPolicy | undefined, options: GetManyOrSetOptions & { errors: unknown[] }): Promise<(V | null | undefined)[]>
  override getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy?: BatchPolicy, options?: GetManyOrSetOptions): Promise<(V | null)[]>
  override getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy?: BatchPolicy, options?: GetManyOrSetOptions): Promise<(V | null | undefined)[]> {
    const telemetry = this.#telemetry
    const call = telemetry.start('getManyOrSet', SPAN_GET_MANY_OR_SET, undefined, Array.isArray(keys) ? { [ATTR_BATCH_SIZE]: keys.length } : undefined)
    const traced: BatchLoader<V> =
      typeof loadMany === 'function'
        ? (missing, ctx) => {
            call.loaded += missing.length
            return telemetry.load(call, ctx.background, () => loadMany(missing, ctx), { [ATTR_BATCH_SIZE]: missing.length })
          }
        : loadMany
    return this.#run(call, undefined, () => this.inner.getManyOrSet(keys, traced, policy, options))
  }

  /** Runs a read with its span active; ends the span when it settles (or throws at the call site). */
  #run<T>(call: CallRecord, status: ReadStatus | undefined, read: () => Promise<T>): Promise<T> {
    const telemetry = this.#telemetry
    let pending: Promise<T>
    try {
      pending = contexts.with(call.context, read)
    } catch (error) {
      telemetry.finish(call, status, true, error)
      throw error
    }
    return pending.then(
      (value) => {
        telemetry.finish(call, status, false)
        return value
      },
      (error: unknown) => {
        telemetry.finish(call, status, true, error)
        throw error
      },
    )
  }

  withContext(context: { waitUntil?: WaitUntil | undefined }): InstrumentedCache {
    return new InstrumentedView(this.inner.withContext(context), this.#telemetry)
  }

  detach(): void {
    this.#telemetry.detach()
  }
}
