/**
 * Cache-Control parsing (RFC 9111 §5.2, RFC 5861, RFC 8246), request and response directives, on values that may
 * be tokens or quoted strings: commas inside `no-cache="a, b"` do not split directives.
 */

/** The directives caches act on. Values in seconds, as on the wire. */
export interface CacheDirectives {
  /** `max-age`; NaN when present but invalid. */
  maxAge?: number
  /** `s-maxage` (shared caches); NaN when present but invalid. */
  sMaxAge?: number
  /** `no-store`: never stored. */
  noStore: boolean
  /** `no-cache`, qualified or not: stored, but never used without revalidation. */
  noCache: boolean
  /** `private`, qualified or not: a shared cache must not store it. */
  private: boolean
  /** `must-revalidate`: once stale, never used without revalidation, not even on errors. */
  mustRevalidate: boolean
  /** `proxy-revalidate`: must-revalidate for shared caches. */
  proxyRevalidate: boolean
  /** `public`: cacheable, heuristic freshness included, whatever its status. */
  public: boolean
  /** `must-understand`: store only when the status code is understood. */
  mustUnderstand: boolean
  /** `immutable` (RFC 8246): a fresh response need not be revalidated on reload. */
  immutable: boolean
  /** `stale-while-revalidate` (RFC 5861 §3). */
  staleWhileRevalidate?: number
  /** `stale-if-error` (RFC 5861 §4). */
  staleIfError?: number
  /** Request `max-stale`: Infinity without a value (any staleness). */
  maxStale?: number
  /** Request `min-fresh`. */
  minFresh?: number
  /** Request `only-if-cached`. */
  onlyIfCached: boolean
  /** A directive appeared twice with different values: RFC 9111 §4.2.1 lets a cache treat the response as stale. */
  conflicting: boolean
}

/** delta-seconds past 2^31 are read as 2^31 (RFC 9111 §1.2.2). */
const DELTA_MAX = 2_147_483_648

/**
 * Every directive of a Cache-Control value: lowercase name -> argument (unquoted), undefined without one. The
 * first occurrence of a name wins.
 *
 * @example
 * cacheControlDirectives('Max-Age=60, no-cache="set-cookie, x"') // Map { 'max-age' => '60', 'no-cache' => 'set-cookie, x' }
 */
export function cacheControlDirectives(value: string | null): Map<string, string | undefined> {
  return scan(value).directives
}

function scan(value: string | null): { directives: Map<string, string | undefined>; conflicting: boolean } {
  const directives = new Map<string, string | undefined>()
  let conflicting = false
  if (value === null) return { directives, conflicting }
  for (const match of value.matchAll(/([^=,\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?/g)) {
    const name = (match[1] as string).toLowerCase()
    const raw = match[2]?.trim()
    const arg = raw?.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw
    if (directives.has(name)) {
      if (directives.get(name) !== arg) conflicting = true
      continue
    }
    directives.set(name, arg)
  }
  return { directives, conflicting }
}

/** The directives that are present or not, and the field reporting each. */
const FLAGS: readonly (readonly [string, keyof CacheDirectives])[] = [
  ['no-store', 'noStore'],
  ['no-cache', 'noCache'],
  ['private', 'private'],
  ['must-revalidate', 'mustRevalidate'],
  ['proxy-revalidate', 'proxyRevalidate'],
  ['public', 'public'],
  ['must-understand', 'mustUnderstand'],
  ['immutable', 'immutable'],
  ['only-if-cached', 'onlyIfCached'],
]

/**
 * The directives with delta-seconds, and the field reporting each; `true` when an invalid value is reported as
 * NaN (an invalid max-age makes a response stale), otherwise it is dropped.
 */
const SECONDS: readonly (readonly [string, keyof CacheDirectives, boolean?])[] = [
  ['max-age', 'maxAge', true],
  ['s-maxage', 'sMaxAge', true],
  ['min-fresh', 'minFresh'],
  ['stale-while-revalidate', 'staleWhileRevalidate'],
  ['stale-if-error', 'staleIfError'],
]

/**
 * The directives of a Cache-Control value (request or response) that caches act on; unknown ones are ignored.
 *
 * @example
 * parseCacheControl('max-age=60, stale-while-revalidate=30') // { maxAge: 60, staleWhileRevalidate: 30, … }
 */
export function parseCacheControl(value: string | null): CacheDirectives {
  const { directives, conflicting } = scan(value)
  const out: Record<string, unknown> = { conflicting }
  for (const [name, field] of FLAGS) out[field] = directives.has(name)
  for (const [name, field, keepInvalid] of SECONDS) {
    const s = directives.has(name) ? deltaSeconds(directives.get(name)) : Number.NaN
    if (keepInvalid === true ? directives.has(name) : !Number.isNaN(s)) out[field] = s
  }
  if (directives.has('max-stale')) {
    // Without a value: any staleness (§5.2.1.2).
    const arg = directives.get('max-stale')
    const s = arg === undefined ? Number.POSITIVE_INFINITY : deltaSeconds(arg)
    if (!Number.isNaN(s)) out.maxStale = s
  }
  return out as unknown as CacheDirectives
}

function deltaSeconds(arg: string | undefined): number {
  if (arg === undefined || !/^\d+$/.test(arg)) return Number.NaN
  return Math.min(Number(arg), DELTA_MAX)
}

/**
 * The Age field's value in seconds (RFC 9111 §5.1): the first member of a list (`7200, 0` is 7200), undefined when
 * absent, NaN when that member is not a non-negative integer.
 */
export function parseAge(value: string | null): number | undefined {
  if (value === null) return undefined
  const first = (value.split(',')[0] as string).trim()
  return /^\d+$/.test(first) ? Math.min(Number(first), DELTA_MAX) : Number.NaN
}
