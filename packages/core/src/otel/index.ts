import type { Cache } from '../cache.js'
import { InstrumentedView, type InstrumentedCache } from './instrumented-cache.js'
import { Telemetry, type InstrumentCacheOptions } from './telemetry.js'

export type { InstrumentedCache } from './instrumented-cache.js'
export type { InstrumentCacheOptions } from './telemetry.js'
export { errorType } from './telemetry.js'
export * from './names.js'

/**
 * OpenTelemetry for a cache: a span per `getOrSet`, `getManyOrSet` and `get` (state, answering tier, load time,
 * errors) with a child span per loader run, a duration histogram of calls and of loads, and the cache's counters
 * (hits, stale answers and misses, per tier too; tier errors, fills, evictions; refreshes) read from `stats()` when
 * metrics are collected. Only this subpath imports `@opentelemetry/api` (an optional peer dependency); a cache that
 * is not instrumented pays nothing. Instrument a cache once; its `withContext` views stay instrumented.
 *
 * @example
 * import { instrumentCache } from '@tiercache/core/otel'
 * const cache = instrumentCache(createCache({ tiers: [memoryStore()] }), { attributes: { 'tiercache.cache.name': 'users' } })
 * await cache.getOrSet('user:1', () => db.user(1)) // span tiercache.getOrSet, tiercache.state = 'loaded'
 */
export function instrumentCache(cache: Cache, options: InstrumentCacheOptions = {}): InstrumentedCache {
  const c = cache as Partial<Cache> | null
  if (typeof c !== 'object' || c === null || typeof c.getOrSet !== 'function' || typeof c.stats !== 'function' || typeof c.withContext !== 'function') {
    throw new TypeError('instrumentCache(cache): cache must be a cache from createCache()')
  }
  return new InstrumentedView(cache, new Telemetry(cache, options))
}
