/**
 * HTTP caching arithmetic for a private (browser) cache: Cache-Control parsing, freshness lifetime and age
 * (RFC 9111 §4.2), and the stale-while-revalidate / stale-if-error extensions (RFC 5861). Times in ms.
 */

/** The Cache-Control directives a private cache acts on. Lifetimes in seconds, as on the wire. */
export interface CacheDirectives {
  /** `max-age` (RFC 9111 §5.2.2.1); NaN when present but invalid. */
  maxAge?: number
  /** `no-store` (§5.2.2.5 / §5.2.1.5): never stored. */
  noStore: boolean
  /** `no-cache` (§5.2.2.4 / §5.2.1.4), qualified or not: stored, but never used without revalidation. */
  noCache: boolean
  /** `must-revalidate` (§5.2.2.2): once stale, never used without revalidation, not even on errors. */
  mustRevalidate: boolean
  /** `stale-while-revalidate` (RFC 5861 §3). */
  staleWhileRevalidate?: number
  /** `stale-if-error` (RFC 5861 §4). */
  staleIfError?: number
  /** A directive appeared twice with different values: RFC 9111 §4.2.1 lets a cache treat the response as stale. */
  conflicting: boolean
}

/** delta-seconds past 2^31 are read as 2^31 (RFC 9111 §1.2.2). */
const DELTA_MAX = 2_147_483_648

/**
 * Parses a Cache-Control field value (request or response). Directive names are case-insensitive; values may
 * be tokens or quoted strings; `s-maxage`, `public`, `private` and unknown directives are ignored: s-maxage
 * applies to shared caches only (§5.2.2.10) and a browser cache is private.
 *
 * @example
 * parseCacheControl('max-age=60, stale-while-revalidate=30') // { maxAge: 60, staleWhileRevalidate: 30, … }
 */
export function parseCacheControl(value: string | null): CacheDirectives {
  const out: CacheDirectives = { noStore: false, noCache: false, mustRevalidate: false, conflicting: false }
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
      case 'stale-while-revalidate': {
        const s = deltaSeconds(arg)
        if (!Number.isNaN(s)) out.staleWhileRevalidate = s
        break
      }
      case 'stale-if-error': {
        const s = deltaSeconds(arg)
        if (!Number.isNaN(s)) out.staleIfError = s
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

/** An HTTP-date as epoch ms, or undefined when absent or invalid. */
export function parseHttpDate(value: string | null): number | undefined {
  if (value === null) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

/**
 * The freshness lifetime in ms (RFC 9111 §4.2.1), or undefined when the response gives none (no max-age, no
 * Expires): then heuristics or the caller's policy decide. s-maxage is ignored (private cache). An invalid
 * Expires (such as "0") means already expired (§5.3); Expires is measured against Date, or the moment the
 * response arrived when Date is missing.
 */
export function freshnessLifetime(directives: CacheDirectives, headers: Headers, responseTime: number): number | undefined {
  if (directives.conflicting) return 0
  if (directives.maxAge !== undefined) return Number.isNaN(directives.maxAge) ? 0 : directives.maxAge * 1000
  const expires = headers.get('expires')
  if (expires === null) return undefined
  const expiresAt = parseHttpDate(expires)
  if (expiresAt === undefined) return 0
  return Math.max(0, expiresAt - (parseHttpDate(headers.get('date')) ?? responseTime))
}

/**
 * corrected_initial_age (RFC 9111 §4.2.3), in ms: how old the response already was when it arrived, from the
 * Age field, the Date field and the time the request took.
 *
 *   apparent_age = max(0, response_time - date_value)
 *   corrected_age_value = age_value + (response_time - request_time)
 *   corrected_initial_age = max(apparent_age, corrected_age_value)
 *
 * A missing Date counts as response_time (apparent_age 0); an invalid Age as 0.
 */
export function correctedInitialAge(headers: Headers, requestTime: number, responseTime: number): number {
  const age = headers.get('age')
  const ageValue = age !== null && /^\s*\d+\s*$/.test(age) ? Math.min(Number(age), DELTA_MAX) * 1000 : 0
  const dateValue = parseHttpDate(headers.get('date')) ?? responseTime
  const apparentAge = Math.max(0, responseTime - dateValue)
  const correctedAgeValue = ageValue + Math.max(0, responseTime - requestTime)
  return Math.max(apparentAge, correctedAgeValue)
}

/** What the caller's policy says when the response gives no freshness of its own (ms). */
export interface FallbackWindows {
  ttl: number
  swr: number
  staleIfError: number
}

/** When a response may be served, as absolute moments on the cache's clock (epoch ms). */
export interface ResponseWindows {
  /** Fresh before this (RFC 9111 §4.2: freshness_lifetime > current_age). */
  freshUntil: number
  /** Servable stale while revalidating in the background before this (RFC 5861 §3). */
  staleUntil: number
  /** Servable stale when the origin answers 5xx before this (RFC 5861 §4). */
  errorUntil: number
  /** corrected_initial_age, for the Age of later answers. */
  initialAge: number
  /** Whether the response gave a freshness lifetime (max-age, Expires) or no-cache: the fallback was not used. */
  explicit: boolean
  directives: CacheDirectives
}

/**
 * The serving windows of a response received at `responseTime` for a request sent at `requestTime`.
 * Freshness comes from the response (§4.2.1) and only when it says nothing from `fallback`; the windows start
 * when the response was generated (response_time - corrected_initial_age, §4.2.3). no-cache (§5.2.2.4) and
 * must-revalidate (§5.2.2.2) allow no stale serving at all, so they close the RFC 5861 windows.
 */
export function responseWindows(headers: Headers, requestTime: number, responseTime: number, fallback: FallbackWindows): ResponseWindows {
  const directives = parseCacheControl(headers.get('cache-control'))
  const initialAge = correctedInitialAge(headers, requestTime, responseTime)
  const lifetime = freshnessLifetime(directives, headers, responseTime)
  const explicit = lifetime !== undefined || directives.noCache
  const generatedAt = responseTime - initialAge
  const freshUntil = generatedAt + (directives.noCache ? 0 : (lifetime ?? fallback.ttl))
  const noStale = directives.noCache || directives.mustRevalidate
  const swr = noStale ? 0 : seconds(directives.staleWhileRevalidate) ?? (explicit ? 0 : fallback.swr)
  const sie = noStale ? 0 : seconds(directives.staleIfError) ?? (explicit ? 0 : fallback.staleIfError)
  return { freshUntil, staleUntil: freshUntil + swr, errorUntil: freshUntil + sie, initialAge, explicit, directives }
}

function seconds(value: number | undefined): number | undefined {
  return value === undefined ? undefined : value * 1000
}

/** current_age (RFC 9111 §4.2.3): corrected_initial_age + resident_time. */
export function currentAge(initialAge: number, responseTime: number, now: number): number {
  return initialAge + Math.max(0, now - responseTime)
}
