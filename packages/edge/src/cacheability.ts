import { cacheControlDirectives, varyNames } from '@tiercache/core/http'
import { originVerdict, parseSharedDirectives, type OriginVerdict } from './origin-freshness.js'

/** Why a request or a response is not cached; reported as Cache-Status `detail`. */
export type PassReason =
  | 'method'
  | 'no-policy'
  | 'authorization'
  | 'cookie'
  | 'upgrade'
  | 'set-cookie'
  | 'no-store'
  | 'private'
  | 'no-cache'
  | 'vary'
  | 'partial'
  | 'status'
  | 'stream'
  | 'too-large'
  /** The request carried a header the key ignores and the origin may reflect (options.unkeyedHeaders: 'bypass'). */
  | 'unkeyed-header'
  /** Origin mode: the response gives no explicit lifetime (heuristic freshness is off). */
  | 'no-lifetime'
  /** Origin mode: the response was already stale when it arrived. */
  | 'stale'
  /** Origin mode: the response's Age is not a non-negative integer, so its freshness cannot be known. */
  | 'age'

/** What the request rules need from the options. */
export interface RequestRules {
  allowAuthorization: boolean
  allowCookie: boolean
}

/** What the response rules need from the options. */
export interface ResponseRules {
  /** Origin mode: this cache's target name in Surrogate-Control, when it reads Surrogate-Control. */
  surrogate?: string | undefined
  /** Request header names (lowercase) the cache key includes: a response may Vary on these. */
  vary: ReadonlySet<string>
  /** Whether 404/410 are cached (for negativeTtl). */
  negative: boolean
  maxBodySize: number
}

/** How the origin's response is to be treated. */
export type Verdict =
  | { kind: 'store' }
  /** 404/410: stored for negativeTtl. */
  | { kind: 'negative' }
  /** 5xx: a failure, so that stale-if-error can answer. */
  | { kind: 'error' }
  | { kind: 'pass'; reason: PassReason }

/** Statuses cacheable by default (RFC 9110 §15.1), 206 excepted: it is never stored here. */
const STORABLE = new Set([200, 203, 204, 300, 301, 308])
const NEGATIVE = new Set([404, 410])

/**
 * Why this request must not use the cache, or undefined when it may. Only GET and HEAD are cached; requests
 * carrying credentials are not, unless the options allow them (RFC 9111 §3.5: a shared cache must not reuse a
 * response to a request with Authorization).
 */
export function requestPass(request: Request, rules: RequestRules): PassReason | undefined {
  if (request.method !== 'GET' && request.method !== 'HEAD') return 'method'
  const headers = request.headers
  if (headers.has('upgrade')) return 'upgrade'
  if (!rules.allowAuthorization && headers.has('authorization')) return 'authorization'
  if (!rules.allowCookie && headers.has('cookie')) return 'cookie'
  return undefined
}

/**
 * How to treat an origin response. Lifetimes come from the policy, never from the origin's Cache-Control, which
 * is read only for what forbids storing: no-store, private, no-cache (RFC 9111 §5.2.2). Responses that set a
 * cookie, vary on a request header the key does not include (or on `*`), are partial (206), are event streams, or
 * announce a body larger than maxBodySize are passed through unstored.
 */
export function responseVerdict(response: Response, rules: ResponseRules): Verdict {
  const { status, headers } = response
  if (status === 206) return pass('partial')
  // 1xx interim answers and non-standard codes (999) are passed through untouched, never read as failures.
  if (status < 200 || status > 599) return pass('status')
  if (status >= 500) return { kind: 'error' }
  const directives = cacheControlDirectives(headers.get('cache-control'))
  if (directives.has('no-store')) return pass('no-store')
  if (directives.has('private')) return pass('private')
  if (directives.has('no-cache')) return pass('no-cache')
  if (headers.has('set-cookie')) return pass('set-cookie')
  if (varies(headers)) return pass('vary')
  if ((headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream')) return pass('stream')
  const length = Number(headers.get('content-length') ?? Number.NaN)
  if (length > rules.maxBodySize) return pass('too-large')
  if (NEGATIVE.has(status)) return rules.negative ? { kind: 'negative' } : pass('status')
  if (STORABLE.has(status)) return { kind: 'store' }
  return pass('status')
}

/**
 * How to treat an origin response in origin mode (`policy: 'origin'`), as an RFC 9111 shared cache: the response
 * rules every answer obeys (Set-Cookie, unkeyed Vary, event streams, size), then the response's own freshness
 * (originVerdict). A 5xx is judged like any other status (stored when it has an explicit lifetime); the caller
 * decides first whether a stale response answers it (stale-if-error).
 */
export function originResponseVerdict(response: Response, rules: ResponseRules, requestTime: number, responseTime: number): OriginResponseVerdict {
  const { status, headers } = response
  if (status === 206) return pass('partial')
  if (status < 200 || status > 599) return pass('status')
  if (headers.has('set-cookie')) return pass('set-cookie')
  if (varies(headers)) return pass('vary')
  if ((headers.get('content-type') ?? '').toLowerCase().startsWith('text/event-stream')) return pass('stream')
  if (Number(headers.get('content-length') ?? Number.NaN) > rules.maxBodySize) return pass('too-large')
  const verdict = originVerdict(headers, status, requestTime, responseTime, rules.surrogate)
  return verdict.kind === 'pass' ? pass(verdict.reason) : verdict
}

/** How an origin-mode response is treated. */
export type OriginResponseVerdict = Exclude<OriginVerdict, { kind: 'pass' }> | { kind: 'pass'; reason: PassReason }

/**
 * Whether a response to a request with Authorization may be stored by a shared cache (RFC 9111 §3.5): it says
 * `public`, `s-maxage` or `must-revalidate` in Cache-Control.
 */
export function sharedWithAuthorization(headers: Headers): boolean {
  const d = parseSharedDirectives(headers.get('cache-control'))
  return d.public || d.sMaxAge !== undefined || d.mustRevalidate
}

/**
 * Whether a response varies on everything (`Vary: *`, RFC 9111 §4.1: never matches a later request). Other Vary
 * fields are learned: the response is stored as a variant of its URL (learned-vary.ts).
 */
function varies(headers: Headers): boolean {
  return varyNames(headers.get('vary')) === '*'
}

function pass(reason: PassReason): { kind: 'pass'; reason: PassReason } {
  return { kind: 'pass', reason }
}
