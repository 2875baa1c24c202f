/**
 * @tiercache/core/http: the HTTP caching rules the edge and browser packages share, on structural `HeadersLike`
 * types (no DOM or Workers types): Cache-Control parsing with quoted strings, Age, HTTP-dates, the lifetime Expires
 * gives, Vary, the fields never stored, a body codec for JSON entries, and Cache-Status formatting (fwd-status
 * included).
 */
export { cacheControlDirectives, parseAge, parseCacheControl } from './cache-control.js'
export type { CacheDirectives } from './cache-control.js'
export { parseHttpDate } from './date.js'
export { correctedInitialAge } from './age.js'
export { expiresLifetime } from './lifetime.js'
export { appendVary, connectionOptions, mergeVary, NEVER_STORED, selectedValue, storableHeaders, varyNames } from './headers.js'
export type { HeadersLike, IterableHeadersLike } from './headers.js'
export { decodeBody, encodeBody } from './body.js'
export type { EncodedBody } from './body.js'
export { cacheControl, cacheHeaders, formatCacheStatus } from '../cache-control.js'
export type { CacheControlOptions, CacheHeaders, CacheHeadersOptions, CacheStatus, CacheStatusForward } from '../cache-control.js'
