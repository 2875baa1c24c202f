// Origin mode (`policy: 'origin'`): how long a shared cache may keep an origin's response, from the response's own
// headers (RFC 9111 §3 storing, §4.2 freshness and age, RFC 9213 CDN-Cache-Control, RFC 5861 stale windows).
// Times in ms; directive values are seconds on the wire.
// TODO(core/http): the browser package has the private-cache counterpart (http-freshness.ts, http-date.ts); both
// belong in a runtime-free @tiercache/core/http subpath once it exists.

/** Why an origin response is not stored in origin mode (Cache-Status detail). */
export type OriginPassReason = 'no-store' | 'private' | 'no-cache' | 'partial' | 'status' | 'no-lifetime' | 'stale' | 'age'

/** The Cache-Control directives a shared cache acts on. Values in seconds, NaN when present but invalid. */
export interface SharedDirectives {
  maxAge?: number
  sMaxage?: number
  noStore: boolean
  /** Unqualified no-cache (a field list, no-cache="x", only forbids reusing those fields). */
  noCache: boolean
  /** Unqualified private. */
  private: boolean
  mustRevalidate: boolean
  proxyRevalidate: boolean
  staleWhileRevalidate?: number
  staleIfError?: number
  /** A directive appeared twice with different values: RFC 9111 §4.2.1 lets a cache treat the response as stale. */
  conflicting: boolean
}

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

/** delta-seconds past 2^31 are read as 2^31 (RFC 9111 §1.2.2). */
const DELTA_MAX = 2_147_483_648

/**
 * Parses a Cache-Control (or CDN-Cache-Control) value for a shared cache: names case-insensitive, arguments tokens
 * or quoted strings (commas inside quotes do not split); a quoted delta-seconds is invalid (RFC 9111 §1.2.2 has
 * none), so `max-age="60"` makes the response stale instead of fresh.
 */
export function parseSharedDirectives(value: string | null): SharedDirectives {
  const out: SharedDirectives = { noStore: false, noCache: false, private: false, mustRevalidate: false, proxyRevalidate: false, conflicting: false }
  if (value === null) return out
  const seen = new Map<string, string | undefined>()
  for (const match of value.matchAll(/([^=,\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?/g)) {
    const name = (match[1] as string).toLowerCase()
    const arg = match[2]?.trim()
    if (seen.has(name)) {
      if (seen.get(name) !== arg) out.conflicting = true
      continue
    }
    seen.set(name, arg)
    switch (name) {
      case 'max-age':
        out.maxAge = delta(arg)
        break
      case 's-maxage':
        out.sMaxage = delta(arg)
        break
      case 'stale-while-revalidate':
        out.staleWhileRevalidate = delta(arg)
        break
      case 'stale-if-error':
        out.staleIfError = delta(arg)
        break
      case 'no-store':
        out.noStore = true
        break
      case 'no-cache':
        if (arg === undefined) out.noCache = true
        break
      case 'private':
        if (arg === undefined) out.private = true
        break
      case 'must-revalidate':
        out.mustRevalidate = true
        break
      case 'proxy-revalidate':
        out.proxyRevalidate = true
        break
    }
  }
  return out
}

/**
 * How a shared cache in origin mode treats a response received at `responseTime` to a request sent at
 * `requestTime`:
 * - `CDN-Cache-Control` (RFC 9213), when present, replaces Cache-Control and Expires for this cache.
 * - Not stored: no-store, private, 206, statuses outside 200-599, 304, responses without an explicit lifetime
 *   (heuristic freshness is off), and responses with an invalid Age. no-cache responses and responses already
 *   stale on arrival are stored never fresh (revalidated before each use) when they carry an ETag or
 *   Last-Modified, and not stored otherwise.
 * - Lifetime: s-maxage, else max-age, else Expires - Date (an invalid Expires is already expired); minus the
 *   corrected initial age. stale-while-revalidate / stale-if-error give the stale windows, closed by
 *   must-revalidate, proxy-revalidate and s-maxage (RFC 9111 §5.2.2.2, §5.2.2.8, §5.2.2.10).
 */
export function originVerdict(headers: Headers, status: number, requestTime: number, responseTime: number): OriginVerdict {
  if (status === 206) return { kind: 'pass', reason: 'partial' }
  if (status < 200 || status > 599 || status === 304) return { kind: 'pass', reason: 'status' }
  const targeted = headers.get('cdn-cache-control')
  const d = parseSharedDirectives(targeted ?? headers.get('cache-control'))
  if (d.noStore) return { kind: 'pass', reason: 'no-store' }
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
  else if (d.sMaxage !== undefined) lifetime = seconds(d.sMaxage)
  else if (d.maxAge !== undefined) lifetime = seconds(d.maxAge)
  else if (targeted === null && headers.has('expires')) {
    const expires = parseHttpDate(headers.get('expires'), responseTime)
    const date = parseHttpDate(headers.get('date'), responseTime) ?? responseTime
    lifetime = expires === undefined ? 0 : Math.max(0, expires - date)
  }
  if (lifetime === undefined) return { kind: 'pass', reason: 'no-lifetime' }
  const ttl = lifetime - ageAtRequest
  if (!(ttl > 0)) return revalidatable ? { kind: 'store', windows: [0, 0, 0], ageAtRequest } : { kind: 'pass', reason: 'stale' }
  const closed = d.mustRevalidate || d.proxyRevalidate || d.sMaxage !== undefined
  const swr = closed ? 0 : (seconds(d.staleWhileRevalidate) ?? 0)
  const sie = closed ? 0 : (seconds(d.staleIfError) ?? 0)
  return { kind: 'store', windows: [ttl, swr, sie], ageAtRequest }
}

/**
 * The Age field's first member in seconds (RFC 9111 §5.1), undefined when absent, NaN when not a non-negative
 * integer: a response whose age cannot be known is not trusted to be fresh.
 */
export function parseAge(value: string | null): number | undefined {
  if (value === null) return undefined
  const first = (value.split(',')[0] as string).trim()
  return /^\d+$/.test(first) ? Math.min(Number(first), DELTA_MAX) : Number.NaN
}

/**
 * corrected_initial_age (RFC 9111 §4.2.3) in ms: max(apparent_age, age_value + response_delay). A missing or
 * invalid Date counts as the response time. NaN when Age is invalid.
 */
export function correctedInitialAge(headers: Headers, requestTime: number, responseTime: number): number {
  const age = parseAge(headers.get('age'))
  if (age !== undefined && Number.isNaN(age)) return Number.NaN
  const date = parseHttpDate(headers.get('date'), responseTime) ?? responseTime
  const apparent = Math.max(0, responseTime - date)
  return Math.max(apparent, (age ?? 0) * 1000 + Math.max(0, responseTime - requestTime))
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const M = `(${MONTHS.join('|')})`
const T = '(\\d{2}):(\\d{2}):(\\d{2})'
const IMF = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\\d{2}) ${M} (\\d{4}) ${T} GMT$`)
const RFC850 = new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-${M}-(\\d{2}) ${T} GMT$`)
const ASCTIME = new RegExp(`^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ${M} (\\d{2}| \\d) ${T} (\\d{4})$`)

/**
 * An HTTP-date (RFC 9110 §5.6.7: IMF-fixdate, RFC 850, asctime) as epoch ms, undefined when absent or invalid
 * (Date.parse would accept "0" or ISO dates). A two-digit RFC 850 year more than 50 years ahead of `now` is the
 * century before.
 */
export function parseHttpDate(value: string | null, now: number): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  let m = IMF.exec(text)
  if (m !== null) return utc(Number(m[3]), m[2] as string, Number(m[1]), m)
  m = ASCTIME.exec(text)
  if (m !== null) return utc(Number(m[6]), m[1] as string, Number((m[2] as string).trim()), [m[0], '', '', '', m[3], m[4], m[5]] as unknown as RegExpExecArray)
  m = RFC850.exec(text)
  if (m === null) return undefined
  const two = Number(m[3])
  const current = new Date(now).getUTCFullYear()
  let year = current - (current % 100) + two
  if (year > current + 50) year -= 100
  return utc(year, m[2] as string, Number(m[1]), m)
}

/** Epoch ms of a date whose time of day is in groups 4-6 of `m`; undefined for impossible dates (31 Feb). */
function utc(year: number, month: string, day: number, m: RegExpExecArray): number | undefined {
  const mon = MONTHS.indexOf(month)
  const [h, min, s] = [Number(m[4]), Number(m[5]), Number(m[6])]
  if (h > 23 || min > 59 || s > 60) return undefined
  const ms = Date.UTC(year, mon, day, h, min, Math.min(s, 59))
  return new Date(ms).getUTCDate() === day ? ms : undefined
}

function delta(arg: string | undefined): number {
  if (arg === undefined || !/^\d+$/.test(arg)) return Number.NaN
  return Math.min(Number(arg), DELTA_MAX)
}

/** ms for seconds; NaN (an invalid value) is 0: already stale. */
function seconds(value: number): number
function seconds(value: number | undefined): number | undefined
function seconds(value: number | undefined): number | undefined {
  if (value === undefined) return undefined
  return Number.isNaN(value) ? 0 : value * 1000
}
