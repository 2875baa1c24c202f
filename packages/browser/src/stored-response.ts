/**
 * A response as the cached fetch keeps it in the cache: plain JSON-compatible data (core rejects ArrayBuffer in
 * values, because serializing tiers hold JSON), with the body as UTF-8 text when it is valid UTF-8 and base64
 * otherwise. Every answer is a new Response rebuilt from it, so each caller can read its own body.
 */
import { decodeBody, selectedValue, storableHeaders, type HeadersLike } from '@tiercache/core/http'
import { currentAge } from './http-freshness.js'

export interface StoredResponse {
  /** Format version. */
  v: 1
  /** The request URL it answers (no fragment). */
  url: string
  /** response.url when the fetch followed redirects. */
  finalUrl?: string
  status: number
  statusText: string
  /** Response header fields, minus those never stored (core's `storableHeaders`). */
  headers: [string, string][]
  /** UTF-8 text, or base64 when `b64` is 1. */
  body: string
  b64?: 1
  /** When the request was sent and the response arrived (epoch ms, the cached fetch's clock). */
  requestTime: number
  responseTime: number
  /** corrected_initial_age (RFC 9111 §4.2.3), ms. */
  initialAge: number
  /** Absolute serving windows: fresh, stale-while-revalidate, stale-if-error (RFC 9111 §4.2, RFC 5861). */
  freshUntil: number
  staleUntil: number
  errorUntil: number
  /** The response said no-cache / must-revalidate: never served stale, not even offline. */
  noCache?: 1
  mustRevalidate?: 1
  /**
   * The request header values its Vary field selected (lowercase names; null = header absent). A stored response
   * answers only requests with the same values (RFC 9111 §4.1).
   */
  vary?: Record<string, string | null>
  /** Generation of a URL's Vary variants: variants are keyed under it, so replacing the URL's entry orphans them. */
  gen?: string
}

/**
 * Fields a 304 does not update (RFC 9111 §3.2 lets a cache that stores processed content keep the fields that
 * describe it): the stored bytes' coding, length, digest and range, and the validator they were stored under.
 */
const KEPT_ON_304 = new Set(['content-encoding', 'content-length', 'content-md5', 'content-range', 'etag'])

/** Content codings every fetch decodes (Fetch "handle content codings"): the body arrives decoded. */
const DECODED_CODINGS = new Set(['gzip', 'x-gzip', 'deflate', 'br'])
/** zstd is decoded only by newer runtimes: a body still starting with its magic number was not. */
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd]

/**
 * Whether fetch decoded the body of a response with this Content-Encoding: every listed coding is one fetch
 * decodes (an unknown one anywhere leaves the whole body as sent), zstd judged by the bytes.
 */
export function bodyDecoded(contentEncoding: string | null, bytes: Uint8Array): boolean {
  if (contentEncoding === null) return false
  const codings = contentEncoding.toLowerCase().split(',').map((c) => c.trim()).filter((c) => c !== '' && c !== 'identity')
  if (codings.length === 0) return false
  return codings.every((c) => DECODED_CODINGS.has(c) || (c === 'zstd' && !ZSTD_MAGIC.every((b, i) => bytes[i] === b)))
}

/**
 * The stored fields updated from a 304 (RFC 9111 §3.2, §4.3.4): every field of the 304 replaces the stored
 * one, except those never stored (core's `storableHeaders`) and those describing the stored bytes (KEPT_ON_304);
 * fields the 304 does not carry stay.
 */
export function freshenHeaders(stored: readonly [string, string][], notModified: Headers): [string, string][] {
  const merged = new Headers(stored as [string, string][])
  for (const [name, value] of storableHeaders(notModified, KEPT_ON_304)) merged.set(name, value)
  const out: [string, string][] = []
  merged.forEach((value, name) => out.push([name, value]))
  return out
}

/** The values a request has for the given Vary names. */
export function selectedValues(names: readonly string[], headers: HeadersLike): Record<string, string | null> {
  const out: Record<string, string | null> = {}
  for (const name of names) out[name] = selectedValue(headers, name)
  return out
}

/** Whether a stored response may answer this request: same URL and the same values for its Vary names (RFC 9111 §4.1). */
export function answers(stored: StoredResponse, url: string, headers: Headers): boolean {
  if (stored.url !== url) return false
  const vary = stored.vary
  if (vary === undefined) return true
  for (const name in vary) if (selectedValue(headers, name) !== vary[name]) return false
  return true
}

export function isStoredResponse(value: unknown): value is StoredResponse {
  if (typeof value !== 'object' || value === null) return false
  const s = value as Partial<StoredResponse>
  return s.v === 1 && typeof s.url === 'string' && typeof s.status === 'number' && typeof s.body === 'string' && Array.isArray(s.headers)
}

/** Statuses whose responses have no body (Fetch's null body status). */
const NULL_BODY = new Set([101, 103, 204, 205, 304])

export interface ResponseOptions {
  method: string
  now: number
  /** Member appended to Cache-Status (RFC 9211): the cache closest to the client goes last. */
  cacheStatus: string
  /** Set Age to the current age (RFC 9111 §5.1): true when answering from storage. */
  age: boolean
}

/** A new Response for a stored one: its own body stream, Age and Cache-Status, and `url` like the original. */
export function toResponse(stored: StoredResponse, options: ResponseOptions): Response {
  const headers = new Headers(stored.headers)
  if (options.age) headers.set('age', String(Math.floor(currentAge(stored.initialAge, stored.responseTime, options.now) / 1000)))
  appendCacheStatus(headers, options.cacheStatus)
  const bytes = NULL_BODY.has(stored.status) ? null : decodeBody(stored)
  // The length of the stored bytes (as sent when Content-Encoding was kept), for GET and HEAD alike (RFC 9110 §8.6).
  if (bytes !== null) headers.set('content-length', String(bytes.byteLength))
  const response = new Response(options.method === 'HEAD' ? null : bytes, { status: stored.status, statusText: stored.statusText, headers })
  Object.defineProperty(response, 'url', { value: stored.finalUrl ?? stored.url })
  if (stored.finalUrl !== undefined) Object.defineProperty(response, 'redirected', { value: true })
  return response
}

/** The same response with a Cache-Status member added (headers of fetched responses are immutable, so it is rebuilt around the same body stream). */
export function withCacheStatus(response: Response, member: string): Response {
  // Opaque and network-error responses (status 0) cannot be rebuilt; they go back untouched.
  if (response.status < 200 || response.status > 599) return response
  const headers = new Headers(response.headers)
  appendCacheStatus(headers, member)
  const body = NULL_BODY.has(response.status) ? null : response.body
  const out = new Response(body, { status: response.status, statusText: response.statusText, headers })
  Object.defineProperty(out, 'url', { value: response.url })
  if (response.redirected) Object.defineProperty(out, 'redirected', { value: true })
  return out
}

function appendCacheStatus(headers: Headers, member: string): void {
  const existing = headers.get('cache-status')
  headers.set('cache-status', existing === null || existing === '' ? member : `${existing}, ${member}`)
}
