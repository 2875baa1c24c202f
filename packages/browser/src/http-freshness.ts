/**
 * HTTP caching arithmetic for a private (browser) cache: freshness lifetime (explicit and heuristic) and age
 * (RFC 9111 §4.2), and the stale-while-revalidate / stale-if-error extensions (RFC 5861). Times in ms, except
 * directive values, which stay in seconds as on the wire. Cache-Control, Age and HTTP-date parsing are core's
 * (`@tiercache/core/http`); a private cache ignores the shared-cache directives (`s-maxage`, `private`,
 * `proxy-revalidate`, §5.2.2.10) they also report. An invalid Age makes a response stale on arrival (see
 * core's `correctedInitialAge`), as the HTTP cache tests and Firefox do: a response whose age cannot be known is not
 * trusted to be fresh.
 */
import { correctedInitialAge, expiresLifetime, parseCacheControl, parseHttpDate, type CacheDirectives } from '@tiercache/core/http'

/** Heuristic lifetimes are capped (RFC 9111 §4.2.2 leaves the bound to the cache): a week. */
const HEURISTIC_MAX = 7 * 86_400_000
/** Statuses heuristically cacheable (RFC 9110 §15.1), 206 aside: partial responses are never stored here. */
export const HEURISTIC_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501])

/** Where a freshness lifetime came from. */
export type LifetimeSource = 'explicit' | 'heuristic'

/**
 * The freshness lifetime in ms (RFC 9111 §4.2.1), or undefined when the response gives none: max-age, then
 * Expires - Date, then (§4.2.2) 10% of Date - Last-Modified for heuristically cacheable statuses or `public`
 * responses, capped at a week. s-maxage is ignored (private cache). An invalid Expires (such as "0") means already
 * expired (§5.3); Expires is measured against Date, or the moment the response arrived when Date is missing.
 */
export function freshnessLifetime(
  directives: CacheDirectives,
  headers: Headers,
  status: number,
  responseTime: number,
): { ms: number; source: LifetimeSource } | undefined {
  if (directives.conflicting) return { ms: 0, source: 'explicit' }
  if (directives.maxAge !== undefined) return { ms: Number.isNaN(directives.maxAge) ? 0 : directives.maxAge * 1000, source: 'explicit' }
  const expires = expiresLifetime(headers, responseTime)
  if (expires !== undefined) return { ms: expires, source: 'explicit' }
  if (!HEURISTIC_STATUSES.has(status) && !directives.public) return undefined
  const date = parseHttpDate(headers.get('date'), responseTime) ?? responseTime
  const lastModified = parseHttpDate(headers.get('last-modified'), responseTime)
  if (lastModified === undefined || lastModified > date) return undefined
  return { ms: Math.min(Math.floor((date - lastModified) / 10), HEURISTIC_MAX), source: 'heuristic' }
}

/** What the caller's policy says when the response gives no freshness of its own (ms). */
export interface FallbackWindows {
  ttl: number
  swr: number
  staleIfError: number
  /** Whether a policy was given at all: then it wins over heuristic freshness. */
  given: boolean
}

/** When a response may be served, as absolute moments on the cache's clock (epoch ms). */
export interface ResponseWindows {
  /** Fresh before this (RFC 9111 §4.2: freshness_lifetime > current_age). */
  freshUntil: number
  /** Servable stale while revalidating in the background before this (RFC 5861 §3). */
  staleUntil: number
  /** Servable stale when the origin answers 5xx before this (RFC 5861 §4). */
  errorUntil: number
  /** corrected_initial_age, for the Age of later answers (0 when the Age field was invalid). */
  initialAge: number
  /** Whether the response gave a freshness lifetime (max-age, Expires) or no-cache: the fallback was not used. */
  explicit: boolean
  directives: CacheDirectives
}

/**
 * The serving windows of a response received at `responseTime` for a request sent at `requestTime`.
 * Freshness comes from the response (§4.2.1), when it says nothing from `fallback` (the caller's policy), and
 * without a policy from heuristics (§4.2.2). The windows start when the response was generated
 * (response_time - corrected_initial_age, §4.2.3); an invalid Age makes the response stale on arrival.
 * no-cache (§5.2.2.4) and must-revalidate (§5.2.2.2) allow no stale serving at all, so they close the RFC 5861
 * windows.
 */
export function responseWindows(headers: Headers, status: number, requestTime: number, responseTime: number, fallback: FallbackWindows): ResponseWindows {
  const directives = parseCacheControl(headers.get('cache-control'))
  const measured = correctedInitialAge(headers, requestTime, responseTime)
  const ageUnknown = Number.isNaN(measured)
  const initialAge = ageUnknown ? 0 : measured
  const found = freshnessLifetime(directives, headers, status, responseTime)
  const explicit = found?.source === 'explicit' || directives.noCache
  const lifetime = found?.source === 'explicit' ? found.ms : fallback.given ? fallback.ttl : (found?.ms ?? 0)
  const generatedAt = responseTime - initialAge
  const freshUntil = ageUnknown || directives.noCache ? responseTime : generatedAt + lifetime
  const noStale = directives.noCache || directives.mustRevalidate
  const swr = noStale ? 0 : (seconds(directives.staleWhileRevalidate) ?? (explicit ? 0 : fallback.swr))
  const sie = noStale ? 0 : (seconds(directives.staleIfError) ?? (explicit ? 0 : fallback.staleIfError))
  return { freshUntil, staleUntil: freshUntil + swr, errorUntil: freshUntil + sie, initialAge, explicit, directives }
}

function seconds(value: number | undefined): number | undefined {
  return value === undefined ? undefined : value * 1000
}

/** current_age (RFC 9111 §4.2.3): corrected_initial_age + resident_time. */
export function currentAge(initialAge: number, responseTime: number, now: number): number {
  return initialAge + Math.max(0, now - responseTime)
}
