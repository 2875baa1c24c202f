import { parseOptionalDuration, typeOf, type Duration } from './duration.js'
import { isEntry, type Entry } from './entry.js'
import { isResolvedPolicy, resolvePolicy, type Policy, type ResolvedPolicy } from './policy.js'

export interface CacheControlOptions {
  /** 'private' for per-user responses: only the browser may store them, never a shared cache. @default 'public' */
  scope?: 'public' | 'private'
  /** Produce the CDN-Cache-Control value (RFC 9213, for the CDN only) instead of Cache-Control. @default false */
  cdn?: boolean
  /** A shorter lifetime for browsers: max-age is capped here, shared caches keep the policy's ttl through s-maxage. */
  browserTtl?: Duration
}

/** RFC 9211 Cache-Status forward reasons this library reports. */
export type CacheStatusForward = 'miss' | 'uri-miss' | 'vary-miss' | 'stale' | 'bypass' | 'method' | 'request' | 'partial'

/** What one cache did for one response, for the Cache-Status field (RFC 9211). */
export interface CacheStatus {
  /** Answered from the cache without going to the origin (stale answers included; their ttl is negative). */
  hit: boolean
  /** Why the request went to the origin. */
  fwd?: CacheStatusForward
  /** With `fwd`: the status code the origin answered the forwarded request with (RFC 9211 §2.3 `fwd-status`). */
  fwdStatus?: number
  /** The origin's response was stored. */
  stored?: boolean
  /** The request was collapsed into another one's load. */
  collapsed?: boolean
  /** Remaining freshness in seconds (negative when stale); computed from the entry when omitted. */
  ttl?: number
  /** Which tier answered, e.g. 'L1'. */
  detail?: string
}

export interface CacheHeadersOptions extends Omit<CacheControlOptions, 'cdn'> {
  /** Clock time for an entry's age and remaining lifetime. @default Date.now() */
  now?: number
  /** Also emit CDN-Cache-Control (public scope only). @default false */
  cdn?: boolean
  /** Emit Cache-Status for this outcome. */
  status?: CacheStatus
  /** The cache's name in Cache-Status. @default 'tiercache' */
  cacheName?: string
}

/** Response header fields, with their canonical names. */
export type CacheHeaders = Record<string, string>

/**
 * The Cache-Control value for a policy (RFC 9111 §5.2.2, RFC 5861 for stale-while-revalidate and stale-if-error).
 * Lifetimes are whole seconds, rounded down so that no cache keeps a response longer than the policy allows.
 *
 * @example
 * cacheControl({ ttl: '5m', swr: '1m' }) // 'public, max-age=300, stale-while-revalidate=60'
 * cacheControl({ ttl: '5m' }, { scope: 'private' }) // 'private, max-age=300'
 */
export function cacheControl(policy: Policy | ResolvedPolicy, options: CacheControlOptions = {}): string {
  const p = toResolved(policy)
  const scope = checkScope(options)
  const browserTtl = parseOptionalDuration(options.browserTtl, 'options.browserTtl')
  return directives(p.ttl, p.swr, p.staleIfError, scope, options.cdn === true, browserTtl)
}

/**
 * Cache-Control, CDN-Cache-Control, Age and Cache-Status for a response built from a live entry or from a policy.
 * For an entry, max-age is its own lifetime and Age how old it is (RFC 9111 §5.1), so every downstream cache
 * computes the remaining lifetime (max-age minus Age), never more than the entry has left.
 *
 * @example
 * cacheHeaders(entry, { now: Date.now(), cdn: true, status: { hit: true, detail: 'L1' } })
 * // { 'Cache-Control': 'public, max-age=300', 'CDN-Cache-Control': 'max-age=300', Age: '42',
 * //   'Cache-Status': 'tiercache; hit; ttl=258; detail=L1' }
 */
export function cacheHeaders(source: Entry | Policy | ResolvedPolicy, options: CacheHeadersOptions = {}): CacheHeaders {
  if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, got ${typeOf(options)}`)
  const scope = checkScope(options)
  const browserTtl = parseOptionalDuration(options.browserTtl, 'options.browserTtl')
  const headers: CacheHeaders = {}
  let remaining: number | undefined
  if (isEntry(source)) {
    const now = options.now ?? Date.now()
    if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError(`options.now must be epoch ms, got ${String(now)}`)
    const ttl = source.freshUntil - source.createdAt
    const swr = source.staleUntil - source.freshUntil
    const sie = source.errorUntil === undefined ? 0 : source.errorUntil - source.freshUntil
    headers['Cache-Control'] = directives(ttl, swr, sie, scope, false, browserTtl)
    if (options.cdn === true && scope === 'public') headers['CDN-Cache-Control'] = directives(ttl, swr, sie, scope, true, undefined)
    // Rounded up, so that max-age minus Age never exceeds what the entry has left.
    headers.Age = String(Math.min(Math.max(0, Math.ceil((now - source.createdAt) / 1000)), MAX_DELTA_SECONDS))
    remaining = Math.floor((source.freshUntil - now) / 1000)
  } else {
    const p = toResolved(source)
    headers['Cache-Control'] = directives(p.ttl, p.swr, p.staleIfError, scope, false, browserTtl)
    if (options.cdn === true && scope === 'public') headers['CDN-Cache-Control'] = directives(p.ttl, p.swr, p.staleIfError, scope, true, undefined)
    remaining = Math.floor(p.ttl / 1000)
  }
  if (options.status !== undefined) {
    const status = options.status.ttl === undefined && options.status.hit ? { ...options.status, ttl: remaining } : options.status
    headers['Cache-Status'] = formatCacheStatus(status, options.cacheName)
  }
  return headers
}

/** Forward reasons RFC 9211 §2.2 registers: the only values `fwd` may take. */
const FORWARD_REASONS: ReadonlySet<string> = new Set(['bypass', 'method', 'uri-miss', 'vary-miss', 'miss', 'request', 'stale', 'partial'])

/** An RFC 8941 token (§3.3.4): emitted bare. */
const TOKEN = /^[A-Za-z*][A-Za-z0-9!#$%&'*+\-.^_`|~:/]*$/
/** What an RFC 8941 string may hold (§3.3.3): printable ASCII, no control characters (CR and LF included). */
const STRING_CHARS = /^[\x20-\x7e]*$/

/**
 * One Cache-Status member (RFC 9211 §2): the cache's name, then hit or fwd and the other parameters. Every
 * parameter is checked against its grammar, so that no value can break out of the field (CR, LF) or of its list:
 * `fwd` must be a registered forward reason, `fwdStatus` (sent with `fwd` only) a status code, `ttl` an integer
 * (capped at 2^31 s), `detail` a token or a string of printable ASCII; anything else throws a RangeError naming the
 * parameter.
 *
 * @example
 * formatCacheStatus({ hit: false, fwd: 'miss', stored: true }) // 'tiercache; fwd=miss; stored'
 */
export function formatCacheStatus(status: CacheStatus, cacheName = 'tiercache'): string {
  if (typeof status !== 'object' || status === null) throw new TypeError(`status must be an object like { hit: true }, got ${typeOf(status)}`)
  if (typeof cacheName !== 'string' || !TOKEN.test(cacheName)) {
    throw new RangeError(`cacheName must be an RFC 8941 token (a letter or *, then letters, digits and !#$%&'*+-.^_\`|~:/), got ${JSON.stringify(cacheName)}`)
  }
  let out = cacheName
  if (status.hit === true) out += '; hit'
  else if (status.fwd !== undefined) {
    if (typeof status.fwd !== 'string' || !FORWARD_REASONS.has(status.fwd)) {
      throw new RangeError(`status.fwd must be one of ${[...FORWARD_REASONS].join(', ')} (RFC 9211 §2.2), got ${JSON.stringify(status.fwd)}`)
    }
    out += `; fwd=${status.fwd}`
    const code = status.fwdStatus
    if (code !== undefined) {
      if (!(Number.isInteger(code) && code > 99 && code < 600)) throw new RangeError(`status.fwdStatus must be a status code (100-599), got ${String(code)}`)
      out += `; fwd-status=${code}`
    }
  }
  if (status.ttl !== undefined) {
    if (typeof status.ttl !== 'number' || Number.isNaN(status.ttl)) throw new RangeError(`status.ttl must be a number of seconds, got ${String(status.ttl)}`)
    out += `; ttl=${Math.max(-MAX_DELTA_SECONDS, Math.min(Math.trunc(status.ttl), MAX_DELTA_SECONDS))}`
  }
  if (status.stored === true) out += '; stored'
  if (status.collapsed === true) out += '; collapsed'
  if (status.detail !== undefined) {
    const detail = status.detail
    if (typeof detail !== 'string' || !STRING_CHARS.test(detail)) {
      throw new RangeError(`status.detail must be printable ASCII (an RFC 8941 token or string: no control characters such as CR or LF), got ${JSON.stringify(detail)}`)
    }
    out += TOKEN.test(detail) ? `; detail=${detail}` : `; detail="${detail.replace(/[\\"]/g, (c) => `\\${c}`)}"`
  }
  return out
}

function directives(ttl: number, swr: number, sie: number, scope: 'public' | 'private', cdn: boolean, browserTtl: number | undefined): string {
  const maxAge = seconds(ttl)
  const extensions = (seconds(swr) > 0 ? `, stale-while-revalidate=${seconds(swr)}` : '') + (seconds(sie) > 0 ? `, stale-if-error=${seconds(sie)}` : '')
  if (cdn) {
    // A CDN-targeted field (RFC 9213): a private response must not be stored by the CDN at all.
    if (scope === 'private') return 'no-store'
    return maxAge === 0 && extensions === '' ? 'no-cache' : `max-age=${maxAge}${extensions}`
  }
  if (maxAge === 0 && extensions === '') return `${scope}, no-cache`
  const browser = browserTtl === undefined ? maxAge : Math.min(maxAge, seconds(browserTtl))
  // s-maxage only when shared caches may keep it longer than browsers, and never for private responses.
  const shared = scope === 'public' && browser < maxAge ? `, s-maxage=${maxAge}` : ''
  return `${scope}, max-age=${browser}${shared}${extensions}`
}

/**
 * The greatest delta-seconds a sender should generate (RFC 9111 §1.2.2): caches treat anything larger as this.
 * Capping keeps every lifetime we emit a plain run of digits (String(1e21) would be '1e+21').
 */
export const MAX_DELTA_SECONDS = 2_147_483_648

/** Whole seconds of a lifetime in ms, rounded down, at most MAX_DELTA_SECONDS. */
function seconds(ms: number): number {
  if (!(ms > 0)) return 0
  const s = Math.floor(ms / 1000)
  return s > MAX_DELTA_SECONDS ? MAX_DELTA_SECONDS : s
}

function checkScope(options: { scope?: unknown }): 'public' | 'private' {
  const scope = options.scope ?? 'public'
  if (scope !== 'public' && scope !== 'private') {
    throw new RangeError(`options.scope must be 'public' or 'private', got ${JSON.stringify(scope)}`)
  }
  return scope
}

function toResolved(policy: Policy | ResolvedPolicy): ResolvedPolicy {
  return isResolvedPolicy(policy) ? policy : resolvePolicy(policy, undefined, 'policy', '')
}
