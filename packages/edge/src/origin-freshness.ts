// Origin mode (`policy: 'origin'`): how long a shared cache may keep an origin's response, from the response's own
// headers (RFC 9111 §3 storing, §4.2 freshness and age, RFC 9213 CDN-Cache-Control, RFC 5861 stale windows).
// Times in ms; directive values are seconds on the wire.
// The parsing (Cache-Control, Age, HTTP-dates) and the Expires lifetime are @tiercache/core/http's, shared with the
// browser's private cache.
import { cacheControlDirectives, correctedInitialAge, expiresLifetime, parseCacheControl, type CacheDirectives } from '@tiercache/core/http'

/** Why an origin response is not stored in origin mode (Cache-Status detail). */
export type OriginPassReason = 'no-store' | 'private' | 'no-cache' | 'partial' | 'status' | 'no-lifetime' | 'stale' | 'age'

/**
 * The Cache-Control directives a shared cache acts on (core's parseCacheControl), with no-cache and private counting
 * only unqualified: `no-cache="x"` and `private="x"` name fields, and forbid reusing those fields only.
 */
export type SharedDirectives = CacheDirectives

/** What a shared cache may do with an origin response. */
export type OriginVerdict =
  | { kind: 'pass'; reason: OriginPassReason }
  | {
      kind: 'store'
      /** Fresh (from the moment the request was sent), stale-while-revalidate and stale-if-error windows, in ms. */
      windows: [ttl: number, swr: number, staleIfError: number]
      /**
       * How old the response counts as at the moment the request was sent, in ms: corrected_initial_age
       * (RFC 9111 §4.2.3) less the response delay, so that its Age later is this plus the time since the request.
       */
      ageAtRequest: number
    }

/** Status codes whose caching semantics this cache knows (RFC 9110 §15): what `must-understand` asks about. */
const UNDERSTOOD = new Set([200, 203, 204, 206, 300, 301, 302, 303, 307, 308, 400, 403, 404, 405, 410, 414, 500, 501, 502, 503, 504])

/**
 * A Cache-Control (or CDN-Cache-Control) value as a shared cache reads it: names case-insensitive, arguments tokens
 * or quoted strings (commas inside quotes do not split), qualified no-cache / private left to the fields they name.
 */
export function parseSharedDirectives(value: string | null): SharedDirectives {
  const d = parseCacheControl(value)
  if (!d.noCache && !d.private) return d
  const raw = cacheControlDirectives(value)
  return { ...d, noCache: raw.has('no-cache') && raw.get('no-cache') === undefined, private: raw.has('private') && raw.get('private') === undefined }
}

/**
 * The directives of a Surrogate-Control value (Edge Architecture Specification 1.0) that apply to the surrogate
 * named `target`, as a Cache-Control value: those targeted at it (`max-age=60;target`) when there are any, else the
 * untargeted ones; null when none apply. Directives targeted at another surrogate are ignored.
 */
export function surrogateDirectives(value: string | null, target: string): string | null {
  if (value === null) return null
  const mine: string[] = []
  const everyone: string[] = []
  // Commas inside quoted arguments do not split.
  for (const part of value.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? []) {
    // A device token follows the last semicolon outside quotes.
    let semicolon = -1
    let quoted = false
    for (let i = 0; i < part.length; i++) {
      if (part[i] === '"') quoted = !quoted
      else if (part[i] === '\\' && quoted) i++
      else if (part[i] === ';' && !quoted) semicolon = i
    }
    const directive = (semicolon === -1 ? part : part.slice(0, semicolon)).trim()
    if (directive === '') continue
    if (semicolon === -1) everyone.push(directive)
    else if (part.slice(semicolon + 1).trim().toLowerCase() === target.toLowerCase()) mine.push(directive)
  }
  const applied = mine.length > 0 ? mine : everyone
  return applied.length === 0 ? null : applied.join(', ')
}

/**
 * How a shared cache in origin mode treats a response received at `responseTime` to a request sent at
 * `requestTime`:
 * - `CDN-Cache-Control` (RFC 9213), when present, replaces Cache-Control and Expires for this cache; else
 *   `Surrogate-Control` does when `surrogate` (this cache's target name) is given and directives apply to it.
 * - Not stored: no-store, private, 206, statuses outside 200-599, 304, responses without an explicit lifetime
 *   (heuristic freshness is off), and responses with an invalid Age. no-cache responses and responses already
 *   stale on arrival are stored never fresh (revalidated before each use) when they carry an ETag or
 *   Last-Modified, and not stored otherwise.
 * - Lifetime: s-maxage, else max-age, else Expires - Date (an invalid Expires is already expired); minus the
 *   corrected initial age. stale-while-revalidate / stale-if-error give the stale windows, closed by
 *   must-revalidate, proxy-revalidate and s-maxage (RFC 9111 §5.2.2.2, §5.2.2.8, §5.2.2.10).
 */
export function originVerdict(headers: Headers, status: number, requestTime: number, responseTime: number, surrogate?: string): OriginVerdict {
  if (status === 206) return { kind: 'pass', reason: 'partial' }
  if (status < 200 || status > 599 || status === 304) return { kind: 'pass', reason: 'status' }
  const targeted = headers.get('cdn-cache-control') ?? (surrogate === undefined ? null : surrogateDirectives(headers.get('surrogate-control'), surrogate))
  const d = parseSharedDirectives(targeted ?? headers.get('cache-control'))
  if (d.mustUnderstand && !UNDERSTOOD.has(status)) return { kind: 'pass', reason: 'status' }
  if (d.noStore && !(d.mustUnderstand && UNDERSTOOD.has(status))) return { kind: 'pass', reason: 'no-store' }
  if (d.private) return { kind: 'pass', reason: 'private' }
  const initialAge = correctedInitialAge(headers, requestTime, responseTime)
  if (Number.isNaN(initialAge)) return { kind: 'pass', reason: d.noCache ? 'no-cache' : 'age' }
  // Windows start when the request was sent (the entry's createdAt): fresh while its age is below the lifetime.
  const ageAtRequest = Math.max(0, initialAge - Math.max(0, responseTime - requestTime))
  // A response that must be revalidated before each use (no-cache, RFC 9111 §5.2.2.4) or is stale on arrival is
  // kept, never fresh, when it has a validator: the next request revalidates it and a 304 spares the body.
  const revalidatable = headers.has('etag') || headers.has('last-modified')
  if (d.noCache) return revalidatable ? { kind: 'store', windows: [0, 0, 0], ageAtRequest } : { kind: 'pass', reason: 'no-cache' }
  let lifetime: number | undefined
  if (d.conflicting) lifetime = 0
  else if (d.sMaxAge !== undefined) lifetime = seconds(d.sMaxAge)
  else if (d.maxAge !== undefined) lifetime = seconds(d.maxAge)
  else if (targeted === null) lifetime = expiresLifetime(headers, responseTime)
  if (lifetime === undefined) return { kind: 'pass', reason: 'no-lifetime' }
  const ttl = lifetime - ageAtRequest
  if (!(ttl > 0)) return revalidatable ? { kind: 'store', windows: [0, 0, 0], ageAtRequest } : { kind: 'pass', reason: 'stale' }
  const closed = d.mustRevalidate || d.proxyRevalidate || d.sMaxAge !== undefined
  const swr = closed ? 0 : (seconds(d.staleWhileRevalidate) ?? 0)
  const sie = closed ? 0 : (seconds(d.staleIfError) ?? 0)
  return { kind: 'store', windows: [ttl, swr, sie], ageAtRequest }
}

/** ms for seconds; NaN (an invalid value) is 0: already stale. */
function seconds(value: number): number
function seconds(value: number | undefined): number | undefined
function seconds(value: number | undefined): number | undefined {
  if (value === undefined) return undefined
  return Number.isNaN(value) ? 0 : value * 1000
}
