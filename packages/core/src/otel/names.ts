/**
 * The names tiercache records under. OpenTelemetry has no semantic conventions for caches yet, so every name of our
 * own lives in the `tiercache.*` namespace, shaped by the general rules: lowercase dot-separated namespaces,
 * snake_case words, durations as histograms in seconds (`s`), counts of things as counters with a `{thing}` unit,
 * and one instrument with an attribute where the values partition a whole (hit / stale / miss) rather than one
 * instrument per value. Where a general convention exists it is used as is: `error.type` for failures (an error
 * code or exception name, `_OTHER` when unknown), exceptions recorded as span events.
 */

/** Tracer and meter name (the instrumentation scope). */
export const SCOPE_NAME = '@tiercache/core'

/** Span of one `getOrSet` call. */
export const SPAN_GET_OR_SET = 'tiercache.getOrSet'
/** Span of one `getManyOrSet` call. */
export const SPAN_GET_MANY_OR_SET = 'tiercache.getManyOrSet'
/** Span of one `get` call. */
export const SPAN_GET = 'tiercache.get'
/** Span of one loader run (a child of the call that started it, also when it runs in the background). */
export const SPAN_LOAD = 'tiercache.load'

/** The cache's namespace (`''` when it has none). */
export const ATTR_NAMESPACE = 'tiercache.namespace'
/** `getOrSet`, `getManyOrSet` or `get` (on the operation duration histogram). */
export const ATTR_OPERATION_NAME = 'tiercache.operation.name'
/** How the call was answered: the read status' `state` (`fresh`, `stale`, `stale-if-error`, `stale-on-timeout`, `negative`, `loaded`, `miss`). */
export const ATTR_STATE = 'tiercache.state'
/** The name of the tier that answered, or whose counters a point carries. Absent when the loader answered. */
export const ATTR_TIER_NAME = 'tiercache.tier.name'
/** The position of that tier, 0 = L1. */
export const ATTR_TIER_INDEX = 'tiercache.tier.index'
/** The key (opt-in: `recordKeys`, keys may carry user ids). Spans only, never on metrics. */
export const ATTR_KEY = 'tiercache.key'
/** The call joined a read or a load another call had started. */
export const ATTR_COLLAPSED = 'tiercache.collapsed'
/** A background refresh of the key runs after this answer. */
export const ATTR_REFRESHING = 'tiercache.refreshing'
/** For `loaded`: the answer was written to the tiers. */
export const ATTR_STORED = 'tiercache.stored'
/** How long this call's own loader ran, in ms (absent when no loader ran for this call in the foreground). */
export const ATTR_LOAD_DURATION_MS = 'tiercache.load.duration_ms'
/** The load is a refresh nobody waits on (stale-while-revalidate, early refresh). */
export const ATTR_LOAD_BACKGROUND = 'tiercache.load.background'
/** The loader found nothing: a negative entry is cached. */
export const ATTR_LOAD_NEGATIVE = 'tiercache.load.negative'
/** getManyOrSet: how many keys were asked for. */
export const ATTR_BATCH_SIZE = 'tiercache.batch.size'
/** getManyOrSet: how many keys went to the batch loader. */
export const ATTR_BATCH_LOADED = 'tiercache.batch.loaded'
/** `hit`, `stale` or `miss`, on the lookup counters. */
export const ATTR_LOOKUP_RESULT = 'tiercache.lookup.result'
/** OpenTelemetry's general error attribute: a CacheError code, an exception name, or `_OTHER`. */
export const ATTR_ERROR_TYPE = 'error.type'

/** Counter: answers of the cache (per key of a batch), by `tiercache.lookup.result`. */
export const METRIC_LOOKUPS = 'tiercache.lookups'
/** Counter: reads that reached a tier, by `tiercache.lookup.result` and tier. */
export const METRIC_TIER_LOOKUPS = 'tiercache.tier.lookups'
/** Counter: failures and timeouts of a tier. */
export const METRIC_TIER_ERRORS = 'tiercache.tier.errors'
/** Counter: entries copied into a tier from a lower one. */
export const METRIC_TIER_FILLS = 'tiercache.tier.fills'
/** Counter: entries a tier dropped on its own (capacity, size, expiry). */
export const METRIC_TIER_EVICTIONS = 'tiercache.tier.evictions'
/** Counter: background refreshes started. */
export const METRIC_REFRESHES = 'tiercache.refreshes'
/** Histogram (s): loader runs; its count is the number of loads, by `error.type` and `tiercache.load.background`. */
export const METRIC_LOAD_DURATION = 'tiercache.load.duration'
/** Histogram (s): instrumented calls, by operation, state, answering tier and `error.type`. */
export const METRIC_OPERATION_DURATION = 'tiercache.operation.duration'
