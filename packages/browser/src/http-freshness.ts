/**
 * HTTP caching arithmetic for a private (browser) cache: Cache-Control parsing, freshness lifetime (explicit and
 * heuristic) and age (RFC 9111 §4.2), and the stale-while-revalidate / stale-if-error extensions (RFC 5861).
 * Times in ms, except directive values, which stay in seconds as on the wire.
 */
import { parseHttpDate } from '@tiercache/core/http'

export { parseHttpDate } from '@tiercache/core/http'

/** The Cache-Control directives a private cache acts on, request and response ones. Values in seconds. */
export interface CacheDirectives {
  /** `max-age` (RFC 9111 §5.2.2.1 / §5.2.1.1); NaN when present but invalid. */
  maxAge?: number
  /** `no-store` (§5.2.2.5 / §5.2.1.5): never stored. */
  noStore: boolean
  /** `no-cache` (§5.2.2.4 / §5.2.1.4), qualified or not: stored, but never used without revalidation. */
  noCache: boolean
  /** `must-revalidate` (§5.2.2.2): once stale, never used without revalidation, not even on errors. */
  mustRevalidate: boolean
  /** `public` (§5.2.2.9): marks a response cacheable, heuristic freshness included, whatever its status. */
  public: boolean
  /** `must-understand` (§5.2.2.3): store only when the status code is understood. */
  mustUnderstand: boolean
  /** `immutable` (RFC 8246): a fresh response need not be revalidated when the user reloads. */
  immutable: boolean
  /** `stale-while-revalidate` (RFC 5861 §3). */
  staleWhileRevalidate?: number
  /** `stale-if-error` (RFC 5861 §4). */
  staleIfError?: number
  /** Request `max-stale` (§5.2.1.2): Infinity without a value (any staleness). */
  maxStale?: number
  /** Request `min-fresh` (§5.2.1.3). */
  minFresh?: number
  /** Request `only-if-cached` (§5.2.1.7). */
  onlyIfCached: boolean
  /** A directive appeared twice with different values: RFC 9111 §4.2.1 lets a cache treat the response as stale. */
  conflicting: boolean
}

/** delta-seconds past 2^31 are read as 2^31 (RFC 9111 §1.2.2). */
const DELTA_MAX = 2_147_483_648
/** Heuristic lifetimes are capped (RFC 9111 §4.2.2 leaves the bound to the cache): a week. */
const HEURISTIC_MAX = 7 * 86_400_000
/** Statuses heuristically cacheable (RFC 9110 §15.1), 206 aside: partial responses are never stored here. */
export const HEURISTIC_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501])

/**
 * Parses a Cache-Control field value (request or response). Directive names are case-insensitive; values may
 * be tokens or quoted strings; `s-maxage`, `private`, `proxy-revalidate` and unknown directives are ignored: they
 * apply to shared caches (§5.2.2.10) or do not change what a private cache does.
 *
 * @example
 * parseCacheControl('max-age=60, stale-while-revalidate=30') // { maxAge: 60, staleWhileRevalidate: 30, … }
 */
export function parseCacheControl(value: string | null): CacheDirectives {
  const out: CacheDirectives = {
    noStore: false,
    noCache: false,
    mustRevalidate: false,
    public: false,
    mustUnderstand: false,
    immutable: false,
    onlyIfCached: false,
    conflicting: false,
  }
  if (value === null) return out
  const seen = new Map<string, string | undefined>()
  // Commas inside quoted strings (no-cache="a, b") do not split directives.
  for (const match of value.matchAll(/([^=,\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?/g)) {
    const name = (match[1] as string).toLowerCase()
    const raw = match[2]?.trim()
    const arg = raw?.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw
    if (seen.has(name) && seen.get(name) !== arg) out.conflicting = true
    if (seen.has(name)) continue
    seen.set(name, arg)
    switch (name) {
      case 'max-age':
        out.maxAge = deltaSeconds(arg)
        break
      case 'no-store':
        out.noStore = true
        break
      case 'no-cache':
        out.noCache = true
        break
      case 'must-revalidate':
        out.mustRevalidate = true
        break
      case 'public':
        out.public = true
        break
      case 'must-understand':
        out.mustUnderstand = true
        break
      case 'immutable':
        out.immutable = true
        break
      case 'only-if-cached':
        out.onlyIfCached = true
        break
      case 'max-stale': {
        // Without a value: any staleness (§5.2.1.2).
        const s = arg === undefined ? Number.POSITIVE_INFINITY : deltaSeconds(arg)
        if (!Number.isNaN(s)) out.maxStale = s
        break
      }
      case 'min-fresh':
      case 'stale-while-revalidate':
      case 'stale-if-error': {
        const s = deltaSeconds(arg)
        if (Number.isNaN(s)) break
        if (name === 'min-fresh') out.minFresh = s
        else if (name === 'stale-while-revalidate') out.staleWhileRevalidate = s
        else out.staleIfError = s
        break
      }
    }
  }
  return out
}

function deltaSeconds(arg: string | undefined): number {
  if (arg === undefined || !/^\d+$/.test(arg)) return Number.NaN
  return Math.min(Number(arg), DELTA_MAX)
}

/**
 * The Age field's value in seconds (RFC 9111 §5.1): the first member of a list (`7200, 0` is 7200), undefined when
 * absent, NaN when that member is not a non-negative integer. RFC 9111 lets a cache ignore an invalid Age; this
 * cache treats the response as stale instead (see `correctedInitialAge`), as the HTTP cache tests and Firefox do:
 * a response whose age cannot be known is not trusted to be fresh.
 */
export function parseAge(value: string | null): number | undefined {
  if (value === null) return undefined
  const first = (value.split(',')[0] as string).trim()
  return /^\d+$/.test(first) ? Math.min(Number(first), DELTA_MAX) : Number.NaN
}

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
  const date = parseHttpDate(headers.get('date'), responseTime) ?? responseTime
  const expires = headers.get('expires')
  if (expires !== null) {
    const expiresAt = parseHttpDate(expires, responseTime)
    return { ms: expiresAt === undefined ? 0 : Math.max(0, expiresAt - date), source: 'explicit' }
  }
  if (!HEURISTIC_STATUSES.has(status) && !directives.public) return undefined
  const lastModified = parseHttpDate(headers.get('last-modified'), responseTime)
  if (lastModified === undefined || lastModified > date) return undefined
  return { ms: Math.min(Math.floor((date - lastModified) / 10), HEURISTIC_MAX), source: 'heuristic' }
}

/**
 * corrected_initial_age (RFC 9111 §4.2.3), in ms: how old the response already was when it arrived, from the
 * Age field, the Date field and the time the request took.
 *
 *   apparent_age = max(0, response_time - date_value)
 *   corrected_age_value = age_value + (response_time - request_time)
 *   corrected_initial_age = max(apparent_age, corrected_age_value)
 *
 * A missing Date counts as response_time (apparent_age 0). NaN when Age is invalid (see `parseAge`).
 */
export function correctedInitialAge(headers: Headers, requestTime: number, responseTime: number): number {
  const age = parseAge(headers.get('age'))
  if (age !== undefined && Number.isNaN(age)) return Number.NaN
  const ageValue = (age ?? 0) * 1000
  const dateValue = parseHttpDate(headers.get('date'), responseTime) ?? responseTime
  const apparentAge = Math.max(0, responseTime - dateValue)
  const correctedAgeValue = ageValue + Math.max(0, responseTime - requestTime)
  return Math.max(apparentAge, correctedAgeValue)
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
