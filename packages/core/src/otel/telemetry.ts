import {
  context as contexts,
  metrics,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type BatchObservableCallback,
  type Context,
  type Histogram,
  type Meter,
  type MeterProvider,
  type ObservableCounter,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api'
import type { Cache } from '../cache.js'
import type { ReadStatus } from '../engine/status.js'
import {
  ATTR_BATCH_LOADED,
  ATTR_COLLAPSED,
  ATTR_ERROR_TYPE,
  ATTR_KEY,
  ATTR_LOAD_BACKGROUND,
  ATTR_LOAD_DURATION_MS,
  ATTR_LOAD_NEGATIVE,
  ATTR_LOOKUP_RESULT,
  ATTR_NAMESPACE,
  ATTR_OPERATION_NAME,
  ATTR_REFRESHING,
  ATTR_STATE,
  ATTR_STORED,
  ATTR_TIER_INDEX,
  ATTR_TIER_NAME,
  METRIC_LOAD_DURATION,
  METRIC_LOOKUPS,
  METRIC_OPERATION_DURATION,
  METRIC_REFRESHES,
  METRIC_TIER_ERRORS,
  METRIC_TIER_EVICTIONS,
  METRIC_TIER_FILLS,
  METRIC_TIER_LOOKUPS,
  SCOPE_NAME,
  SPAN_LOAD,
} from './names.js'

/** Options of instrumentCache. */
export interface InstrumentCacheOptions {
  /** Where spans go. @default the global tracer provider (`trace.getTracerProvider()`), a no-op until an SDK registers one */
  tracerProvider?: TracerProvider
  /**
   * Where metrics go. @default the global meter provider as it is when instrumentCache runs (the metrics API has no
   * proxy: instrument after the SDK started, or pass the provider)
   */
  meterProvider?: MeterProvider
  /** Put each call's key on its span as `tiercache.key` (keys often carry user ids). Never on metrics. @default false */
  recordKeys?: boolean
  /**
   * Added to every span and metric point, e.g. `{ 'tiercache.cache.name': 'users' }` to tell caches apart. Keep them
   * few and of low cardinality. @default none
   */
  attributes?: Attributes
  /** Clock for durations, in ms. @default performance.now where the runtime has it, else Date.now */
  now?: () => number
}

/** One instrumented call: its span, the context its loader runs in, and what its loader reported. */
export interface CallRecord {
  readonly span: Span
  readonly context: Context
  readonly operation: string
  readonly started: number
  /** Duration of this call's own foreground load in ms; -1 when none ran. */
  loadMs: number
  /** getManyOrSet: keys handed to the batch loader. */
  loaded: number
}

const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

function defaultNow(): () => number {
  const performance = (globalThis as { performance?: { now?: () => number } }).performance
  return typeof performance?.now === 'function' ? () => performance.now!() : Date.now
}

/** The attributes of `parts` in one new object (later parts win). */
function merge(...parts: (Attributes | undefined)[]): Attributes {
  const out: Attributes = {}
  for (const part of parts) {
    if (part === undefined) continue
    for (const name of Object.keys(part)) out[name] = part[name]
  }
  return out
}

/** Distinct attribute sets kept for reuse: metric points take few combinations by design. */
const MAX_KEPT_SETS = 512

function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** `error.type`: a CacheError's code, else the exception's name, else `_OTHER` (the convention's fallback). */
export function errorType(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code, name } = error as { code?: unknown; name?: unknown }
    if (name === 'CacheError' && typeof code === 'string') return code
    if (typeof name === 'string' && name !== '') return name
  }
  return '_OTHER'
}

function checkOptions(options: unknown): InstrumentCacheOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('instrumentCache(cache, options): options must be an object')
  const o = options as Record<string, unknown>
  if (o.tracerProvider !== undefined && typeof (o.tracerProvider as TracerProvider | null)?.getTracer !== 'function') {
    throw new TypeError('options.tracerProvider must be a TracerProvider (with getTracer)')
  }
  if (o.meterProvider !== undefined && typeof (o.meterProvider as MeterProvider | null)?.getMeter !== 'function') {
    throw new TypeError('options.meterProvider must be a MeterProvider (with getMeter)')
  }
  if (o.recordKeys !== undefined && typeof o.recordKeys !== 'boolean') throw new TypeError('options.recordKeys must be a boolean')
  if (o.attributes !== undefined && (typeof o.attributes !== 'object' || o.attributes === null || Array.isArray(o.attributes))) {
    throw new TypeError('options.attributes must be an object of attribute names to values')
  }
  if (o.now !== undefined && typeof o.now !== 'function') throw new TypeError('options.now must be a function returning ms')
  return options as InstrumentCacheOptions
}

/** The tracer, the instruments and the attributes of one instrumented cache, shared by its withContext views. */
export class Telemetry {
  readonly #tracer: Tracer
  readonly #meter: Meter
  readonly #now: () => number
  readonly #recordKeys: boolean
  /** Namespace and the caller's attributes: on every span and metric point. */
  readonly #base: Attributes
  readonly #loadDuration: Histogram
  readonly #operationDuration: Histogram
  readonly #observables: ObservableCounter[]
  readonly #observe: BatchObservableCallback
  /**
   * Attribute sets already built, by combination: building a new object per call (object spread over the base) cost
   * tens of µs per call under V8 here; the SDK copies what it keeps, so a shared set is safe to hand over.
   */
  readonly #sets = new Map<string, Attributes>()
  #detached = false

  constructor(cache: Cache, given: InstrumentCacheOptions) {
    const options = checkOptions(given)
    this.#tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE_NAME)
    this.#meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE_NAME)
    this.#now = options.now ?? defaultNow()
    this.#recordKeys = options.recordKeys ?? false
    this.#base = merge(options.attributes, { [ATTR_NAMESPACE]: cache.namespace })
    const meter = this.#meter
    const advice = { explicitBucketBoundaries: DURATION_BUCKETS }
    this.#loadDuration = meter.createHistogram(METRIC_LOAD_DURATION, { unit: 's', description: 'Duration of loader runs.', advice })
    this.#operationDuration = meter.createHistogram(METRIC_OPERATION_DURATION, { unit: 's', description: 'Duration of cache calls.', advice })
    const lookups = meter.createObservableCounter(METRIC_LOOKUPS, { unit: '{lookup}', description: 'Answers of the cache by result (hit, stale, miss).' })
    const tierLookups = meter.createObservableCounter(METRIC_TIER_LOOKUPS, { unit: '{lookup}', description: 'Reads that reached a tier, by result.' })
    const tierErrors = meter.createObservableCounter(METRIC_TIER_ERRORS, { unit: '{error}', description: 'Failures and timeouts of a tier.' })
    const tierFills = meter.createObservableCounter(METRIC_TIER_FILLS, { unit: '{entry}', description: 'Entries copied into a tier from a lower one.' })
    const tierEvictions = meter.createObservableCounter(METRIC_TIER_EVICTIONS, { unit: '{entry}', description: 'Entries a tier dropped on its own.' })
    const refreshes = meter.createObservableCounter(METRIC_REFRESHES, { unit: '{refresh}', description: 'Background refreshes started.' })
    this.#observables = [lookups, tierLookups, tierErrors, tierFills, tierEvictions, refreshes]
    const base = this.#base
    // The counters are the cache's own stats(), read when a reader collects: nothing runs per call for them.
    this.#observe = (result) => {
      const stats = cache.stats()
      result.observe(lookups, stats.hits, merge(base, { [ATTR_LOOKUP_RESULT]: 'hit' }))
      result.observe(lookups, stats.staleHits, merge(base, { [ATTR_LOOKUP_RESULT]: 'stale' }))
      result.observe(lookups, stats.misses, merge(base, { [ATTR_LOOKUP_RESULT]: 'miss' }))
      result.observe(refreshes, stats.refreshes, base)
      stats.tiers.forEach((tier, index) => {
        const at = merge(base, { [ATTR_TIER_NAME]: tier.name, [ATTR_TIER_INDEX]: index })
        result.observe(tierLookups, tier.hits, merge(at, { [ATTR_LOOKUP_RESULT]: 'hit' }))
        result.observe(tierLookups, tier.staleHits, merge(at, { [ATTR_LOOKUP_RESULT]: 'stale' }))
        result.observe(tierLookups, tier.misses, merge(at, { [ATTR_LOOKUP_RESULT]: 'miss' }))
        result.observe(tierErrors, tier.errors, at)
        result.observe(tierFills, tier.fills, at)
        result.observe(tierEvictions, tier.evictions, at)
      })
    }
    meter.addBatchObservableCallback(this.#observe, this.#observables)
  }

  /** Stops reporting the counters (the meter's callback holds the cache until then). Spans and histograms go on. */
  detach(): void {
    if (this.#detached) return
    this.#detached = true
    this.#meter.removeBatchObservableCallback(this.#observe, this.#observables)
  }

  /** The base attributes with `extra`, built once per distinct `id`. */
  #set(id: string, extra: Attributes): Attributes {
    let set = this.#sets.get(id)
    if (set === undefined) {
      set = merge(this.#base, extra)
      if (this.#sets.size < MAX_KEPT_SETS) this.#sets.set(id, set)
    }
    return set
  }

  /** Starts the span of a call, as a child of the active context. */
  start(operation: string, spanName: string, key: string | undefined, attributes?: Attributes): CallRecord {
    const parent = contexts.active()
    const withKey = this.#recordKeys && typeof key === 'string'
    const spanAttributes = attributes === undefined && !withKey ? this.#base : merge(this.#base, attributes, withKey ? { [ATTR_KEY]: key } : undefined)
    const span = this.#tracer.startSpan(spanName, { kind: SpanKind.INTERNAL, attributes: spanAttributes }, parent)
    return { span, context: trace.setSpan(parent, span), operation, started: this.#now(), loadMs: -1, loaded: 0 }
  }

  /** Ends a call's span with how it was answered (or why it failed) and records its duration. */
  finish(call: CallRecord, status: ReadStatus | undefined, failed: boolean, error?: unknown): void {
    const seconds = (this.#now() - call.started) / 1000
    const { span } = call
    const point: Attributes = { [ATTR_OPERATION_NAME]: call.operation }
    let id = call.operation
    if (status?.state !== undefined) {
      point[ATTR_STATE] = status.state
      id += `\u0000${status.state}`
      span.setAttribute(ATTR_STATE, status.state)
      if (status.tierName !== undefined && status.tier !== undefined && status.tier >= 0) {
        point[ATTR_TIER_NAME] = status.tierName
        id += `\u0000${status.tierName}`
        span.setAttribute(ATTR_TIER_NAME, status.tierName)
        span.setAttribute(ATTR_TIER_INDEX, status.tier)
      }
      if (status.collapsed === true) span.setAttribute(ATTR_COLLAPSED, true)
      if (status.refreshing === true) span.setAttribute(ATTR_REFRESHING, true)
      if (status.state === 'loaded') span.setAttribute(ATTR_STORED, status.stored === true)
    }
    if (call.loadMs >= 0) span.setAttribute(ATTR_LOAD_DURATION_MS, call.loadMs)
    if (call.operation === 'getManyOrSet') span.setAttribute(ATTR_BATCH_LOADED, call.loaded)
    if (failed) {
      const type = errorType(error)
      point[ATTR_ERROR_TYPE] = type
      id += `\u0001${type}`
      fail(span, type, error)
    }
    this.#operationDuration.record(seconds, this.#set(id, point))
    span.end()
  }

  /**
   * Runs one loader call in its own span (a child of the call's, also for a background refresh that outlives it),
   * with that span active so the loader's own spans (a database query) nest under it; records its duration. Keeps
   * a synchronous loader synchronous.
   */
  load<T>(call: CallRecord, background: boolean, run: () => T, attributes?: Attributes): T {
    const spanAttributes =
      attributes === undefined ? this.#set(`load\u0000${background}`, { [ATTR_LOAD_BACKGROUND]: background }) : merge(this.#base, attributes, { [ATTR_LOAD_BACKGROUND]: background })
    const span = this.#tracer.startSpan(SPAN_LOAD, { kind: SpanKind.INTERNAL, attributes: spanAttributes }, call.context)
    const started = this.#now()
    const settle = (failed: boolean, value: unknown, error?: unknown): void => {
      const ms = this.#now() - started
      if (!background) call.loadMs = ms
      let type: string | undefined
      if (failed) {
        type = errorType(error)
        fail(span, type, error)
      } else if (value === null || value === undefined) {
        span.setAttribute(ATTR_LOAD_NEGATIVE, true)
      }
      const point =
        type === undefined
          ? this.#set(`load\u0000${background}`, { [ATTR_LOAD_BACKGROUND]: background })
          : this.#set(`load\u0000${background}\u0001${type}`, { [ATTR_LOAD_BACKGROUND]: background, [ATTR_ERROR_TYPE]: type })
      this.#loadDuration.record(ms / 1000, point)
      span.end()
    }
    let out: T
    try {
      out = contexts.with(trace.setSpan(call.context, span), run)
    } catch (error) {
      settle(true, undefined, error)
      throw error
    }
    if (!isThenable(out)) {
      settle(false, out)
      return out
    }
    return Promise.resolve(out).then(
      (value) => {
        settle(false, value)
        return value
      },
      (error: unknown) => {
        settle(true, undefined, error)
        throw error
      },
    ) as T
  }
}

function fail(span: Span, type: string, error: unknown): void {
  span.setAttribute(ATTR_ERROR_TYPE, type)
  if (error instanceof Error) span.recordException(error)
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
}
