import type { Entry } from '@tiercache/core'
import { connectionOptions, decodeBody, encodeBody, NEVER_STORED, type EncodedBody } from '@tiercache/core/http'
import { toBase64 } from '@tiercache/core/kit'

/**
 * A whole HTTP response as a cache value: status, headers, body (UTF-8 text, or base64 for bytes), and the
 * times of the entry it was stored in (core hands back values, not entries; the headers need the times).
 */
export interface StoredResponse {
  /** Status code. */
  s: number
  /** Header fields as [name, value] pairs, lowercase names, in order. */
  h: [string, string][]
  /** Body: text, or base64 when `e` is 'b64'. */
  b: string
  e?: 'b64'
  /** Epoch ms the load started at (the entry's createdAt, on the cache's clock). */
  t: number
  /** The entry's windows in ms: fresh, stale-while-revalidate, stale-if-error. */
  w: [ttl: number, swr: number, staleIfError: number]
  /**
   * Origin mode only: the response's age in ms at `t` (from its Age and Date), so that Age is this plus the time
   * since; its own caching headers (Cache-Control, Expires, ...) were stored and are served unchanged.
   */
  a?: number
}

/**
 * Response fields that describe one cache's view of the response, not the resource: never stored, like the fields no
 * cache stores (core/http's NEVER_STORED: hop-by-hop fields, Set-Cookie, Content-Length, RFC 9111 §3.1).
 */
const CACHE_VIEW = new Set(['age', 'cache-status', 'cf-cache-status'])

/**
 * Caching fields: replaced by tiercache's own in policy mode, so not stored there; origin mode keeps them, the
 * origin's own instructions passed on unchanged (RFC 9111 §3.1).
 */
const CACHING_FIELDS = new Set(['cache-control', 'cdn-cache-control', 'cloudflare-cdn-cache-control', 'expires', 'pragma', 'surrogate-control'])

const TEXT_TYPE = /^(text\/|application\/(?:[\w.+-]*\+)?(?:json|xml|javascript|ecmascript|x-www-form-urlencoded)|image\/svg\+xml)/i

/** A response whose body was read into `bytes`, as a StoredResponse created at `t` with `windows`. */
export function storedResponse(response: Response, bytes: Uint8Array, t: number, windows: [number, number, number], ageAtRequest?: number): StoredResponse {
  const headers: [string, string][] = []
  const origin = ageAtRequest !== undefined
  // Fields the origin names in Connection belong to that one connection (RFC 9110 §7.6.1).
  const connection = connectionOptions(response.headers)
  response.headers.forEach((value, name) => {
    if (!connection.has(name) && isStoredField(name, origin)) headers.push([name, value])
  })
  const stored: StoredResponse = { s: response.status, h: headers, b: '', t, w: windows }
  if (origin) stored.a = ageAtRequest
  // Text types as text when they are UTF-8; other bytes in base64 (JSON would escape control bytes 6 to 1).
  const body: EncodedBody = TEXT_TYPE.test(response.headers.get('content-type') ?? '') ? encodeBody(bytes) : { body: toBase64(bytes), b64: 1 }
  stored.b = body.body
  if (body.b64 === 1) stored.e = 'b64'
  return stored
}

/** Whether a response field (lowercase name) is stored; `origin`: origin mode, which keeps the origin's caching fields. */
export function isStoredField(name: string, origin: boolean): boolean {
  return !NEVER_STORED.has(name) && !CACHE_VIEW.has(name) && (origin || !CACHING_FIELDS.has(name))
}

/** The body bytes of a stored response. */
export function bodyOf(stored: StoredResponse): Uint8Array {
  return decodeBody(stored.e === 'b64' ? { body: stored.b, b64: 1 } : { body: stored.b })
}

/** The entry a stored response came from, rebuilt from the times it carries. */
export function entryOf(stored: StoredResponse): Entry {
  const [ttl, swr, staleIfError] = stored.w
  const entry: Entry = { value: null, createdAt: stored.t, freshUntil: stored.t + ttl, staleUntil: stored.t + ttl + swr }
  if (staleIfError > 0) entry.errorUntil = stored.t + ttl + staleIfError
  return entry
}

/** Whether a value read from the cache is a StoredResponse this version wrote. */
export function isStoredResponse(value: unknown): value is StoredResponse {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Partial<StoredResponse>
  return (
    typeof v.s === 'number' &&
    Array.isArray(v.h) &&
    typeof v.b === 'string' &&
    typeof v.t === 'number' &&
    Array.isArray(v.w) &&
    v.w.length === 3 &&
    (v.a === undefined || typeof v.a === 'number') &&
    v.w.every((n) => typeof n === 'number')
  )
}
