// Outward caching headers: what every HTTP cache between the Worker and the user (browser, CDN, Workers Cache)
// is told about a response tiercache answers, from the same lifetimes its own tiers use.
import { cacheHeaders, type Entry } from '@tiercache/core'
import { typeOf } from '@tiercache/core/kit'

/**
 * Which HTTP caches outside tiercache may keep a response:
 * - `'all'`: browsers and shared caches (CDN, Workers Cache): `Cache-Control: public, ...`, `CDN-Cache-Control`,
 *   `Cloudflare-CDN-Cache-Control`, `Cache-Tag`.
 * - `'browser'`: the user's browser only: `Cache-Control: private, max-age=...` (RFC 9111 §5.2.2.7), no CDN
 *   fields, no tags.
 * - `'shared'`: shared caches only: `CDN-Cache-Control` / `Cloudflare-CDN-Cache-Control` with the full lifetime
 *   and tags; `Cache-Control: public, max-age=0, s-maxage=N` so that browsers revalidate every use (an ETag makes
 *   that a 304) and shared caches that do not read RFC 9213 fields keep it through s-maxage.
 * - `'tiers'`: tiercache's own tiers only: `Cache-Control: no-store`, nothing outside stores it.
 */
export type HeaderScope = 'all' | 'browser' | 'shared' | 'tiers'

const SCOPES: ReadonlySet<string> = new Set<HeaderScope>(['all', 'browser', 'shared', 'tiers'])

/** How tags are written into Cache-Tag / Surrogate-Key and into purge calls. */
export interface CacheTagOptions {
  /**
   * A tag a CDN could not take as it is (a comma or space, which would split it into other tags; a control or
   * non-ASCII character; longer than `maxTagLength`): `'hash'` writes `tc-<16 hex digits>` of its UTF-8 bytes
   * instead (purges compute the same form, so they still reach it); `'throw'` throws a RangeError naming it.
   * @default 'hash'
   */
  unsafe?: 'hash' | 'throw'
  /**
   * Longest tag written as it is, in bytes. 128 keeps the 64 tags core allows within Cloudflare's 16 KiB Cache-Tag
   * header and within Akamai's per-tag limit. @default 128
   */
  maxTagLength?: number
}

/** Cloudflare reads at most this many bytes of Cache-Tag after the field name. */
export const CACHE_TAG_HEADER_LIMIT = 16 * 1024
/** Cloudflare reads at most this many distinct tags per response. */
export const CACHE_TAG_COUNT_LIMIT = 1000

/** The greatest delta-seconds a sender should generate (RFC 9111 §1.2.2). */
const MAX_DELTA_SECONDS = 2_147_483_648

/** Visible ASCII except the comma (RFC 9110 field value characters that cannot split or end the tag). */
const SAFE_TAG = /^[\x21-\x2b\x2d-\x7e]+$/

/** Options of outwardHeaders. */
export interface OutwardHeadersOptions {
  /** Which caches outside tiercache may keep the response. @default 'all' */
  scope?: HeaderScope
  /** Clock time in epoch ms for Age. */
  now: number
  /** A shorter max-age for browsers, in ms (scope 'all'): shared caches keep the full lifetime through s-maxage. */
  browserTtl?: number
  /** Emit CDN-Cache-Control (RFC 9213). @default true */
  cdn?: boolean
  /** Emit Cloudflare-CDN-Cache-Control (read by Cloudflare, Workers Cache included, and never forwarded). @default true */
  cloudflare?: boolean
  /** The policy's tags as the app wrote them (not namespaced): written to Cache-Tag for shared scopes. */
  tags?: readonly string[] | undefined
  /** Emit Cache-Tag (Cloudflare, comma-separated). @default true */
  cacheTag?: boolean
  /** Also emit Surrogate-Key (Fastly and others, space-separated). @default false */
  surrogateKey?: boolean
  /** How tags are written. */
  tagOptions?: CacheTagOptions
}

/** Response header fields with their canonical names. */
export type OutwardHeaders = Record<string, string>

/** Fields outwardHeaders may set: a response rendered with it first drops whatever the origin put in them. */
export const OUTWARD_FIELDS = [
  'Cache-Control',
  'CDN-Cache-Control',
  'Cloudflare-CDN-Cache-Control',
  'Cache-Tag',
  'Surrogate-Key',
  'Age',
  'Expires',
  'Pragma',
] as const

/**
 * The caching headers of a response built from a live entry, for every HTTP cache outside tiercache, by scope.
 * max-age is the entry's whole lifetime and Age how old it is, so every downstream cache computes what is left
 * (RFC 9111 §4.2.3) and none keeps it longer than tiercache's own tiers do; stale-while-revalidate and
 * stale-if-error (RFC 5861) carry the entry's windows to caches that implement them.
 *
 * @example
 * outwardHeaders(entry, { now: Date.now(), tags: ['product:1'] })
 * // { 'Cache-Control': 'public, max-age=60, stale-while-revalidate=300', 'CDN-Cache-Control': 'max-age=60, ...',
 * //   'Cloudflare-CDN-Cache-Control': 'max-age=60, ...', Age: '12', 'Cache-Tag': 'product:1' }
 */
export function outwardHeaders(entry: Entry, options: OutwardHeadersOptions): OutwardHeaders {
  const scope = options.scope ?? 'all'
  if (!SCOPES.has(scope)) throw new RangeError(`scope must be 'all', 'browser', 'shared' or 'tiers', got ${JSON.stringify(scope)}`)
  if (scope === 'tiers') return { 'Cache-Control': 'no-store' }
  const browserTtl = scope === 'all' ? options.browserTtl : undefined
  const core = cacheHeaders(entry, {
    now: options.now,
    scope: scope === 'browser' ? 'private' : 'public',
    cdn: scope !== 'browser',
    ...(browserTtl === undefined ? {} : { browserTtl }),
  })
  const out: OutwardHeaders = {}
  if (scope === 'shared') {
    const ttl = Math.min(Math.max(0, Math.floor((entry.freshUntil - entry.createdAt) / 1000)), MAX_DELTA_SECONDS)
    // Browsers get nothing to reuse without asking (max-age=0 and no RFC 5861 windows, which they would honour too).
    out['Cache-Control'] = ttl === 0 ? 'public, no-cache' : `public, max-age=0, s-maxage=${ttl}`
  } else out['Cache-Control'] = core['Cache-Control'] as string
  const cdnValue = core['CDN-Cache-Control']
  if (scope !== 'browser' && cdnValue !== undefined) {
    if (options.cdn !== false) out['CDN-Cache-Control'] = cdnValue
    if (options.cloudflare !== false) out['Cloudflare-CDN-Cache-Control'] = cdnValue
  }
  out.Age = core.Age as string
  if (scope !== 'browser' && options.tags !== undefined && options.tags.length > 0) {
    const tags = cdnTags(options.tags, options.tagOptions)
    if (options.cacheTag !== false) out['Cache-Tag'] = tags.join(',')
    if (options.surrogateKey === true) out['Surrogate-Key'] = tags.join(' ')
  }
  return out
}

/**
 * The tags as a CDN sees them (in Cache-Tag, Surrogate-Key and purge calls): each tag that is safe and short
 * written as it is, any other hashed (or rejected, with `unsafe: 'throw'`), duplicates dropped. Throws a
 * RangeError when the result would not fit Cloudflare's Cache-Tag limits (16 KiB, 1000 tags).
 *
 * @example
 * cdnTags(['product:1', 'a,b']) // ['product:1', 'tc-…'] (the comma would have split it into two tags)
 */
export function cdnTags(tags: readonly string[], options: CacheTagOptions = {}): string[] {
  if (!Array.isArray(tags)) throw new TypeError(`tags must be an array of strings, got ${typeOf(tags)}`)
  const out: string[] = []
  const seen = new Set<string>()
  let bytes = 0
  for (let i = 0; i < tags.length; i++) {
    const tag = cdnTag(tags[i] as string, options, `tags[${i}]`)
    if (seen.has(tag)) continue
    seen.add(tag)
    out.push(tag)
    bytes += tag.length + (out.length > 1 ? 1 : 0)
  }
  if (out.length > CACHE_TAG_COUNT_LIMIT) throw new RangeError(`tags: at most ${CACHE_TAG_COUNT_LIMIT} tags fit a Cache-Tag header, got ${out.length}`)
  if (bytes > CACHE_TAG_HEADER_LIMIT) {
    throw new RangeError(`tags: the Cache-Tag header would be ${bytes} bytes, Cloudflare reads at most ${CACHE_TAG_HEADER_LIMIT} (lower tagOptions.maxTagLength)`)
  }
  return out
}

/** Throws unless `options` is undefined or valid CacheTagOptions (`name` names it in the message). */
export function assertTagOptions(options: unknown, name = 'tagOptions'): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null) throw new TypeError(`${name} must be an object, got ${typeOf(options)}`)
  const { unsafe, maxTagLength } = options as CacheTagOptions
  if (unsafe !== undefined && unsafe !== 'hash' && unsafe !== 'throw') throw new RangeError(`${name}.unsafe must be 'hash' or 'throw', got ${JSON.stringify(unsafe)}`)
  if (maxTagLength !== undefined && (!Number.isInteger(maxTagLength) || maxTagLength < 19)) {
    throw new RangeError(`${name}.maxTagLength must be an integer of at least 19 (a hashed tag's length), got ${String(maxTagLength)}`)
  }
}

/**
 * One tag as a CDN sees it: as it is when it is visible ASCII without a comma and at most `maxTagLength` bytes,
 * otherwise `tc-` and a 64-bit hash of its UTF-8 bytes in hex (or a RangeError with `unsafe: 'throw'`).
 * Cloudflare compares tags case-insensitively: tags differing only in case purge together (more, never less).
 */
export function cdnTag(tag: string, options: CacheTagOptions = {}, name = 'tag'): string {
  if (typeof tag !== 'string') throw new TypeError(`${name} must be a string, got ${typeOf(tag)}`)
  if (tag.length === 0) throw new RangeError(`${name} must not be empty`)
  const max = options.maxTagLength ?? 128
  if (!Number.isInteger(max) || max < 19) throw new RangeError(`tagOptions.maxTagLength must be an integer of at least 19 (a hashed tag's length), got ${String(max)}`)
  // Safe ASCII: one character is one byte, so length is the byte length.
  if (tag.length <= max && SAFE_TAG.test(tag)) return tag
  const unsafe = options.unsafe ?? 'hash'
  if (unsafe === 'throw') {
    throw new RangeError(
      `${name} ${JSON.stringify(tag.length > 64 ? `${tag.slice(0, 64)}…` : tag)} cannot be a CDN cache tag: it must be 1 to ${max} visible ASCII characters without commas or spaces`,
    )
  }
  if (unsafe !== 'hash') throw new RangeError(`tagOptions.unsafe must be 'hash' or 'throw', got ${JSON.stringify(unsafe)}`)
  return `tc-${hash64(tag)}`
}

/**
 * 64 bits of two FNV-1a hashes (different offset bases) over the UTF-8 bytes, in hex. Not cryptographic: a
 * collision only makes a purge reach more responses than it names, never fewer.
 */
function hash64(text: string): string {
  const bytes = new TextEncoder().encode(text)
  let a = 0x811c9dc5
  let b = 0x050c5d1f
  for (const byte of bytes) {
    a = Math.imul(a ^ byte, 0x01000193)
    b = Math.imul(b ^ byte, 0x01000193) ^ (b >>> 15)
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0')
}
