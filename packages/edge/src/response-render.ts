// How a response cache answers: a stored response rendered for this request (304, HEAD, ranges, Vary), or the
// origin's passed through; both with the caching headers of their scope (outwardHeaders) and Cache-Status (RFC 9211).
import { formatCacheStatus, namespacePrefix, parseDuration, type Cache, type CacheStatus, type Policy } from '@tiercache/core'
import { appendVary } from '@tiercache/core/http'
import { responseVerdict, type ResponseRules } from './cacheability.js'
import { OUTWARD_FIELDS, outwardHeaders, type CacheTagOptions, type HeaderScope, type OutwardHeadersOptions } from './cdn-headers.js'
import { notModified, NOT_MODIFIED_FIELDS } from './conditional.js'
import { byteRange } from './range.js'
import { bodyOf, entryOf, type StoredResponse } from './stored-response.js'
import type { ResponseCacheOptions } from './response-options.js'

/** Which caches outside tiercache may keep an answer, and the tags they mark it with. */
export interface Outward {
  scope: HeaderScope
  tags: string[] | undefined
}

/** The origin's caching fields a 304 carries in origin mode (RFC 9110 §15.4.5). */
const ORIGIN_304_FIELDS = ['cache-control', 'expires', 'cdn-cache-control']

/** The options of the headers of every answer, as given (see ResponseCacheOptions). */
export type HeaderOptions = Pick<ResponseCacheOptions, 'cdn' | 'cloudflare' | 'cacheTag' | 'surrogateKey' | 'tagOptions' | 'browserTtl'>

/** The answers of one ResponseCache: what it sends the client, built from a stored response or the origin's. */
export class ResponseRenderer {
  readonly #now: () => number
  readonly #statusName: string
  readonly #vary: readonly string[]
  readonly #rules: ResponseRules
  readonly #scope: HeaderScope | ((request: Request) => HeaderScope)
  readonly #cdn: boolean
  readonly #cloudflare: boolean
  readonly #cacheTag: boolean
  readonly #surrogateKey: boolean
  readonly #tagOptions: CacheTagOptions | undefined
  readonly #browserTtl: number | undefined

  /** The header options as given; the other options resolved and checked by the ResponseCache it answers for. */
  constructor(
    options: HeaderOptions,
    scope: HeaderScope | ((request: Request) => HeaderScope),
    vary: readonly string[],
    rules: ResponseRules,
    statusName: string,
    now: () => number,
  ) {
    this.#now = now
    this.#statusName = statusName
    this.#vary = vary
    this.#rules = rules
    this.#scope = scope
    this.#cdn = options.cdn ?? true
    this.#cloudflare = options.cloudflare ?? true
    this.#cacheTag = options.cacheTag ?? true
    this.#surrogateKey = options.surrogateKey ?? false
    this.#tagOptions = options.tagOptions
    this.#browserTtl = options.browserTtl === undefined ? undefined : parseDuration(options.browserTtl, 'options.browserTtl')
  }

  /** The scope and the tags (as the app wrote them, without the namespace) of this request's answer. */
  outward(view: Cache, policy: Policy, request: Request): Outward {
    const scope = typeof this.#scope === 'function' ? this.#scope(request) : this.#scope
    const namespaced = view.resolvePolicy(policy).tags
    if (namespaced === undefined) return { scope, tags: undefined }
    const prefix = namespacePrefix(view.namespace)
    return { scope, tags: namespaced.map((tag) => (tag.startsWith(prefix) ? tag.slice(prefix.length) : tag)) }
  }

  /**
   * A cached response: stored status, headers and body, with the caching headers of its scope for every HTTP
   * cache outside tiercache (Cache-Control, CDN-Cache-Control, Cloudflare-CDN-Cache-Control, Cache-Tag, Age) and
   * Cache-Status.
   */
  render(stored: StoredResponse, request: Request, status: CacheStatus, outward: Outward, stale = false): Response {
    const headers = new Headers(stored.h)
    // An answer core served stale (past its ttl, or soft-invalidated before it) is at least as old as its lifetime:
    // downstream caches (Workers Cache revalidating after invalidate()) must not take it as fresh.
    const now = stale ? Math.max(this.#now(), entryOf(stored).freshUntil) : this.#now()
    const entry = entryOf(stored)
    // Origin mode: the origin's caching headers as they came, and Age counted on from the origin's (RFC 9111 §5.1).
    const own: Record<string, string> = stored.a !== undefined ? { Age: String(Math.min(Math.floor(Math.max(0, stored.a + now - stored.t) / 1000), 2_147_483_648)) } : outwardHeaders(entry, this.#outwardOptions(now, outward))
    own['Cache-Status'] = formatCacheStatus(status.ttl === undefined && status.hit ? { ...status, ttl: Math.floor((entry.freshUntil - now) / 1000) } : status, this.#statusName)
    for (const [name, value] of Object.entries(own)) headers.set(name, value)
    // The answer was selected by these request headers: downstream caches must know (RFC 9110 §12.5.5).
    if (this.#vary.length > 0) headers.set('vary', appendVary(headers.get('vary'), this.#vary))
    if (notModified(request, stored.s, headers)) {
      const kept = new Headers()
      for (const name of [...NOT_MODIFIED_FIELDS, ...Object.keys(own), ...(stored.a === undefined ? [] : ORIGIN_304_FIELDS)]) {
        const value = headers.get(name)
        if (value !== null) kept.set(name, value)
      }
      return new Response(null, { status: 304, headers: kept })
    }
    const empty = request.method === 'HEAD' || stored.s === 204 || stored.s === 304
    if (empty) return new Response(null, { status: stored.s, headers })
    const body = bodyOf(stored)
    const range = stored.s === 200 ? byteRange(request, body.byteLength, headers) : undefined
    if (range === undefined) return new Response(body, { status: stored.s, headers })
    // One range of the stored complete response (RFC 9110 §14.2, §15.3.7).
    headers.set('content-range', `bytes ${range.start}-${range.end}/${body.byteLength}`)
    return new Response(body.subarray(range.start, range.end + 1), { status: 206, headers })
  }

  /**
   * The origin's response with this cache's Cache-Status member appended (RFC 9211 §2: closest to the client last).
   * With `outward` (policy mode, a request the policy covers), an answer the policy's rules would store, passed
   * through only because of its size or because another request's load was shared, carries the caching headers of
   * its scope as a fresh entry: the caches outside tiercache may keep it. Any other pass-through answer (Set-Cookie,
   * private, no-store, credentials, no policy, ...) gets none: the origin's own headers stand.
   */
  passThrough(response: Response, status: CacheStatus, outward?: { view: Cache; policy: Policy; request: Request }): Response {
    // 101 and codes outside 200-599 (999) cannot be rebuilt (the Response constructor rejects them): untouched.
    if (response.status < 200 || response.status > 599) return response
    const out = new Response(response.body, response)
    if (outward !== undefined && this.#outwardOnPass(response, status)) {
      const { view, policy, request } = outward
      const resolved = view.resolvePolicy(policy)
      const now = this.#now()
      const entry = { value: null, createdAt: now, freshUntil: now + resolved.ttl, staleUntil: now + resolved.ttl + resolved.swr, errorUntil: now + resolved.ttl + resolved.staleIfError }
      for (const name of OUTWARD_FIELDS) out.headers.delete(name)
      const headers = outwardHeaders(entry, this.#outwardOptions(now, this.outward(view, policy, request)))
      for (const [name, value] of Object.entries(headers)) out.headers.set(name, value)
    }
    out.headers.append('cache-status', formatCacheStatus(status, this.#statusName))
    return out
  }

  /** Whether a pass-through answer is one the policy would have stored: too large, or not judged by this request. */
  #outwardOnPass(response: Response, status: CacheStatus): boolean {
    if (status.detail === 'not-stored:too-large') return true
    if (status.collapsed !== true || status.detail !== undefined) return false
    const verdict = responseVerdict(response, { ...this.#rules, maxBodySize: Number.POSITIVE_INFINITY })
    return verdict.kind === 'store'
  }

  /** outwardHeaders' options for an answer of this scope and tags at `now`. */
  #outwardOptions(now: number, outward: Outward): OutwardHeadersOptions {
    return {
      now,
      scope: outward.scope,
      cdn: this.#cdn,
      cloudflare: this.#cloudflare,
      cacheTag: this.#cacheTag,
      surrogateKey: this.#surrogateKey,
      tags: outward.tags,
      ...(this.#browserTtl === undefined ? {} : { browserTtl: this.#browserTtl }),
      ...(this.#tagOptions === undefined ? {} : { tagOptions: this.#tagOptions }),
    }
  }
}
