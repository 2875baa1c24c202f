/**
 * The pure half of one trip to the network: the request the cache sends, and what it keeps of the answer (RFC 9111
 * §3 storing, §4.3 validation). No I/O and no clock: callers pass the times.
 */
import { encodeBody, storableHeaders, varyNames } from '@tiercache/core/http'
import { HEURISTIC_STATUSES, responseWindows, type FallbackWindows, type ResponseWindows } from './http-freshness.js'
import type { RequestRules } from './request-rules.js'
import { bodyDecoded, freshenHeaders, selectedValues, type StoredResponse } from './stored-response.js'

/**
 * Statuses whose caching rules this cache knows (RFC 9110 §15): a response with `must-understand` and any other
 * status is not stored (RFC 9111 §5.2.2.3).
 */
const UNDERSTOOD = new Set([
  200, 201, 202, 203, 204, 205, 300, 301, 302, 303, 304, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413,
  414, 415, 416, 417, 421, 422, 426, 500, 501, 502, 503, 504, 505,
])

/**
 * The request sent to the network for `request`, conditional on `stale`'s validators (§4.3.1).
 *
 * It always bypasses the runtime's own HTTP cache (`cache: 'no-store'`), which would otherwise answer first or
 * revalidate on its own. Fetch then adds `Cache-Control: no-cache` and `Pragma: no-cache` unless the request
 * has those fields, telling every cache on the way to revalidate. So, for a request the runtime sends without
 * CORS (same origin, or no `location` as in Node and Workers), the fields are set empty: an empty Cache-Control
 * carries no directive, and the request reaches the origin with no more than the caller asked for. A cross-origin
 * request keeps fetch's fields: two non-safelisted fields would cost it a CORS preflight. The caller's cache mode
 * is carried as a browser would send it: `no-cache` as `Cache-Control: max-age=0`, `reload` as fetch's no-cache.
 */
export function networkRequest(request: Request, stale: StoredResponse | undefined, rules: RequestRules, crossOrigin: boolean): Request {
  const headers = new Headers(request.headers)
  if (stale !== undefined) {
    const etag = stale.headers.find(([name]) => name === 'etag')?.[1]
    const lastModified = stale.headers.find(([name]) => name === 'last-modified')?.[1]
    if (etag !== undefined) headers.set('if-none-match', etag)
    if (lastModified !== undefined) headers.set('if-modified-since', lastModified)
  }
  if (!crossOrigin && rules.mode !== 'reload') {
    if (!headers.has('cache-control')) headers.set('cache-control', rules.mode === 'no-cache' ? 'max-age=0' : '')
    if (!headers.has('pragma')) headers.set('pragma', '')
  }
  // No signal: the request is shared by every collapsed caller, and one of them giving up must not cancel the others.
  return new Request(request, { headers, cache: 'no-store', signal: null })
}

/** A response the cache can keep, before its body is read: its windows and Vary names. */
export interface Keepable {
  windows: ResponseWindows
  vary: string[]
}

/**
 * Whether a response may be stored (RFC 9111 §3), judged from its status and fields; the reason when not.
 * 5xx responses are stored like any other status when they state their own freshness (§3: any final status
 * with explicit freshness); heuristic and policy freshness apply only to heuristically cacheable statuses
 * (RFC 9110 §15.1) or `public` responses.
 */
export function keepable(response: Response, requestTime: number, responseTime: number, fallback: FallbackWindows, maxBodyBytes: number): Keepable | string {
  const status = response.status
  if (response.type === 'opaque' || response.type === 'opaqueredirect') return 'opaque'
  if (status < 200 || status > 599 || status === 206 || status === 304) return `status ${status}`
  const windows = responseWindows(response.headers, status, requestTime, responseTime, fallback)
  const d = windows.directives
  if (d.noStore) return 'no-store' // §5.2.2.5
  if (d.mustUnderstand && !UNDERSTOOD.has(status)) return 'must-understand' // §5.2.2.3
  const vary = varyNames(response.headers.get('vary'))
  if (vary === '*') return 'vary *' // §4.1: never matches
  // The page cannot see the cookie the browser sends: a variant per cookie is impossible.
  if (vary.includes('cookie')) return 'vary cookie'
  if (!HEURISTIC_STATUSES.has(status) && !windows.explicit && !d.public) return 'no explicit freshness'
  const validators = response.headers.has('etag') || response.headers.has('last-modified')
  const keeps = Math.max(windows.freshUntil, windows.staleUntil, windows.errorUntil) > requestTime || validators
  if (!keeps) return 'nothing to keep'
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) return 'event stream'
  if (Number(response.headers.get('content-length') ?? 0) > maxBodyBytes) return 'too large'
  return { windows, vary }
}

/** The stored form of a keepable response whose body was read. */
export function storedResponse(
  url: string,
  request: Request,
  response: Response,
  bytes: Uint8Array,
  keep: Keepable,
  gen: string,
  requestTime: number,
  responseTime: number,
): StoredResponse {
  const stored: StoredResponse = {
    v: 1,
    url,
    status: response.status,
    statusText: response.statusText,
    // Content-Encoding no longer describes bytes fetch decoded; it stays with bytes stored as sent.
    headers: storableHeaders(response.headers, bodyDecoded(response.headers.get('content-encoding'), bytes) ? ['content-encoding'] : []),
    ...encodeBody(bytes),
    requestTime,
    responseTime,
    ...windowFields(keep.windows),
    gen,
  }
  if (response.redirected && response.url !== '' && response.url !== url) stored.finalUrl = response.url
  if (keep.vary.length > 0) stored.vary = selectedValues(keep.vary, request.headers)
  return stored
}

/**
 * The stored response freshened by a 304 (§4.3.4): its fields replace the stored ones (§3.2), and the merged
 * Date, Age and Cache-Control give the new lifetime. The no-stale flags come from the merged fields alone: a 304
 * may drop a no-cache the stored response had.
 */
export function freshened(stale: StoredResponse, notModified: Response, requestTime: number, responseTime: number, fallback: FallbackWindows): StoredResponse {
  const headers = freshenHeaders(stale.headers, notModified.headers)
  const windows = responseWindows(new Headers(headers), stale.status, requestTime, responseTime, fallback)
  const { noCache: _noCache, mustRevalidate: _mustRevalidate, ...kept } = stale
  return { ...kept, headers, requestTime, responseTime, ...windowFields(windows) }
}

/** The stored form of a response's serving windows and no-stale flags. */
function windowFields(windows: ResponseWindows): Pick<StoredResponse, 'initialAge' | 'freshUntil' | 'staleUntil' | 'errorUntil' | 'noCache' | 'mustRevalidate'> {
  const out: Pick<StoredResponse, 'initialAge' | 'freshUntil' | 'staleUntil' | 'errorUntil' | 'noCache' | 'mustRevalidate'> = {
    initialAge: windows.initialAge,
    freshUntil: windows.freshUntil,
    staleUntil: windows.staleUntil,
    errorUntil: windows.errorUntil,
  }
  if (windows.directives.noCache) out.noCache = 1
  if (windows.directives.mustRevalidate) out.mustRevalidate = 1
  return out
}

/** Until when a stored response is kept: its windows, and `retain` past its freshness to be revalidated or to answer offline. */
export function keepUntil(stored: StoredResponse, retain: number): number {
  return Math.max(stored.errorUntil, stored.staleUntil, stored.freshUntil + retain)
}
