import {
  CacheError,
  formatCacheStatus,
  namespacePrefix,
  parseDuration,
  resolvePolicy,
  type Cache,
  type CacheStatus,
  type Loader,
  type Policy,
  type ReadStatus,
} from '@tiercache/core'
import { requestPass, responseVerdict, type ResponseRules } from './cacheability.js'
import { assertTagOptions, cdnTags, OUTWARD_FIELDS, outwardHeaders, type CacheTagOptions, type HeaderScope, type OutwardHeadersOptions } from './cdn-headers.js'
import { notModified, NOT_MODIFIED_FIELDS } from './conditional.js'
import { byteRange } from './range.js'
import { isVaryMarker, variantKey } from './learned-vary.js'
import { urlTags } from './url-tags.js'
import { requestKey, UNKEYED_HEADERS, withoutHeaders } from './request-key.js'
import { bodyOf, entryOf, isStoredResponse, type StoredResponse } from './stored-response.js'
import type { ExecutionContextLike, Origin, ResponseCacheOptions } from './response-options.js'
import { statusOf } from './cache-status.js'
import { OriginError, ResponseLoader, type Local, type LoadTarget, type PassMarker } from './response-loader.js'
import { assertOptions, optionalBoolean, optionalFunction, optionalInteger, optionalString, typeOf } from '@tiercache/core/kit'

/** Methods that never change the resource (RFC 9110 §9.2.1): anything else invalidates the stored GET. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/** Origin mode's call policy: each load sets the entry's windows from the response (setPolicy). */
const ORIGIN_CALL_POLICY: Policy = { ttl: 1000, swr: 0, staleIfError: 0, jitter: 0, earlyRefresh: false }

/** The origin's caching fields a 304 carries in origin mode (RFC 9110 §15.4.5). */
const ORIGIN_304_FIELDS = ['cache-control', 'expires', 'cdn-cache-control']

/** Resolved options and per-isolate state of one withCache or tiercache() instance. */
export class ResponseCache<Env> {
  readonly #cacheOption: ResponseCacheOptions<Env>['cache']
  readonly #policy: ResponseCacheOptions<Env>['policy']
  readonly #vary: readonly string[]
  readonly #rules: ResponseRules
  readonly #cdn: boolean
  readonly #scope: HeaderScope | ((request: Request) => HeaderScope)
  readonly #cloudflare: boolean
  readonly #cacheTag: boolean
  readonly #surrogateKey: boolean
  readonly #urlTags: boolean
  readonly #tagOptions: CacheTagOptions | undefined
  readonly #browserTtl: number | undefined
  readonly #allowAuthorization: boolean | undefined
  readonly #allowCookie: boolean | undefined
  readonly #unkeyed: 'strip' | 'bypass' | 'allow'
  readonly #unkeyedNames: readonly string[]
  readonly #keyPrefix: string
  readonly #statusName: string
  readonly #now: () => number
  readonly #loads: ResponseLoader<Env>
  #cache: Cache | undefined
  readonly #folded = new WeakMap<object, Policy>()

  constructor(options: ResponseCacheOptions<Env>, call: string, policyRequired: boolean) {
    assertOptions(options, call)
    const { cache, policy } = options
    if (typeof cache !== 'function' && !isCache(cache)) {
      throw new TypeError(`options.cache must be a Cache (createCache(...)) or a function (env, ctx) => Cache, got ${typeOf(cache)}`)
    }
    if (policy === undefined) {
      if (policyRequired) throw new TypeError('options.policy is required: a Policy like { ttl: "1m" }, or (request, env) => Policy | undefined')
    } else if (policy !== 'origin' && typeof policy !== 'function') {
      const resolved = resolvePolicy(policy, undefined, 'options.policy', '')
      // Tags that Cache-Tag could not carry are rejected here when tagOptions.unsafe is 'throw'.
      if (resolved.tags !== undefined) cdnTags(policy.tags ?? [], options.tagOptions)
    }
    const scope = options.scope ?? 'all'
    if (typeof scope !== 'function' && !['all', 'browser', 'shared', 'tiers'].includes(scope)) {
      throw new RangeError(`options.scope must be 'all', 'browser', 'shared', 'tiers' or (request) => one of them, got ${JSON.stringify(scope)}`)
    }
    const vary = options.vary ?? []
    if (!Array.isArray(vary)) throw new TypeError(`options.vary must be an array of request header names, got ${typeOf(vary)}`)
    this.#vary = headerNames(vary, 'options.vary')
    if (this.#vary.includes('*')) throw new RangeError('options.vary must not contain "*": a response varying on everything cannot be cached')
    const unkeyed = options.unkeyedHeaders ?? 'strip'
    if (unkeyed !== 'strip' && unkeyed !== 'bypass' && unkeyed !== 'allow') {
      throw new TypeError(`options.unkeyedHeaders must be 'strip', 'bypass' or 'allow', got ${JSON.stringify(unkeyed)}`)
    }
    const unkeyedNames = options.unkeyedHeaderNames ?? UNKEYED_HEADERS
    if (!Array.isArray(unkeyedNames)) throw new TypeError(`options.unkeyedHeaderNames must be an array of request header names, got ${typeOf(unkeyedNames)}`)
    this.#unkeyed = unkeyed
    this.#unkeyedNames = headerNames(unkeyedNames, 'options.unkeyedHeaderNames').filter((name) => !this.#vary.includes(name))
    const negativeTtl = options.negativeTtl === undefined ? undefined : parseDuration(options.negativeTtl, 'options.negativeTtl')
    for (const name of ['cdn', 'cloudflare', 'cacheTag', 'surrogateKey', 'urlTags', 'allowAuthorization', 'allowCookie', 'surrogateControl'] as const) {
      optionalBoolean(options[name], `options.${name}`)
    }
    assertTagOptions(options.tagOptions, 'options.tagOptions')
    optionalInteger(options.maxBodySize, 'options.maxBodySize', 1)
    optionalString(options.keyPrefix, 'options.keyPrefix', undefined, 64, { empty: true })
    optionalFunction(options.now, 'options.now')
    const statusName = options.statusName ?? 'tiercache'
    if (typeof statusName !== 'string') throw new TypeError(`options.statusName must be a string, got ${typeOf(statusName)}`)
    try {
      formatCacheStatus({ hit: true }, statusName)
    } catch {
      throw new RangeError(`options.statusName must be an RFC 8941 token (a letter or *, then letters, digits and !#$%&'*+-.^_\`|~:/), got ${JSON.stringify(statusName)}`)
    }
    this.#cacheOption = cache
    this.#policy = policy
    this.#rules = { vary: new Set(this.#vary), negative: false, maxBodySize: options.maxBodySize ?? 512 * 1024 }
    this.#cdn = options.cdn ?? true
    this.#scope = scope
    this.#cloudflare = options.cloudflare ?? true
    this.#cacheTag = options.cacheTag ?? true
    this.#surrogateKey = options.surrogateKey ?? false
    this.#urlTags = options.urlTags ?? false
    this.#tagOptions = options.tagOptions
    this.#browserTtl = options.browserTtl === undefined ? undefined : parseDuration(options.browserTtl, 'options.browserTtl')
    this.#allowAuthorization = options.allowAuthorization
    this.#allowCookie = options.allowCookie
    const surrogate = options.surrogateControl === false ? undefined : statusName
    this.#keyPrefix = options.keyPrefix ?? 'res:'
    this.#statusName = statusName
    this.#now = options.now ?? Date.now
    this.#loads = new ResponseLoader(
      this.#now,
      this.#rules,
      negativeTtl,
      surrogate,
      this.#allowAuthorization,
      this.#keyPrefix,
      parseDuration(options.keepForRevalidation ?? '1h', 'options.keepForRevalidation'),
    )
  }

  /** The isolate's cache, built from the first request's env when the option is a factory. */
  cacheFor(env: Env, ctx: ExecutionContextLike | undefined): Cache {
    if (this.#cache !== undefined) return this.#cache
    const option = this.#cacheOption
    const cache = typeof option === 'function' ? option(env, ctx) : option
    if (!isCache(cache)) throw new TypeError(`options.cache(env, ctx) must return a Cache (createCache(...)), got ${typeOf(cache)}`)
    this.#cache = cache
    return cache
  }

  /** The request's view of the cache: background work goes to its ctx.waitUntil. */
  viewFor(env: Env, ctx: ExecutionContextLike | undefined): Cache {
    const cache = this.cacheFor(env, ctx)
    return ctx === undefined ? cache : cache.withContext({ waitUntil: (promise) => ctx.waitUntil(promise) })
  }

  /** How tags are written into Cache-Tag (and so into purge calls), as given in the options. */
  get tagOptions(): CacheTagOptions | undefined {
    return this.#tagOptions
  }

  /**
   * Answers a request: from the cache, or through the origin (storing what may be stored), or straight from the
   * origin when the request, its policy or the response rules say so. Every answer carries Cache-Status.
   */
  async respond(request: Request, origin: Origin<Env>): Promise<Response> {
    const early = requestPass(request, { allowAuthorization: true, allowCookie: true })
    // A WebSocket upgrade answer cannot be copied: it goes back untouched.
    if (early === 'upgrade') return origin.fetch(request, false)
    if (early === 'method') {
      const response = await origin.fetch(request, false)
      await this.#invalidateAfterUnsafe(request, response, origin)
      return this.#passThrough(response, { hit: false, fwd: 'method', detail: early })
    }
    const chosen = typeof this.#policy === 'function' ? this.#policy(request, origin.env) : this.#policy
    const originMode = chosen === 'origin'
    // Credentials: the options decide; in origin mode, when unset, RFC 9111 does (Cookie is no reason to bypass, an
    // answer to Authorization is stored only when it says so: see #loadOrigin).
    const reason = requestPass(request, {
      allowAuthorization: this.#allowAuthorization ?? originMode,
      allowCookie: this.#allowCookie ?? originMode,
    })
    if (reason !== undefined) return this.#passThrough(await origin.fetch(request, false), { hit: false, fwd: 'bypass', detail: reason })
    if (chosen === undefined) return this.#passThrough(await origin.fetch(request, false), { hit: false, fwd: 'bypass' })
    // Origin mode: every stored response sets its own windows from its headers; this only covers the call itself.
    const policy = originMode ? ORIGIN_CALL_POLICY : chosen
    if (this.#unkeyed !== 'allow') {
      const stripped = withoutHeaders(request, this.#unkeyedNames)
      if (stripped !== request && this.#unkeyed === 'bypass') {
        return this.#passThrough(await origin.fetch(request, false), { hit: false, fwd: 'bypass', detail: 'unkeyed-header' })
      }
      request = stripped
    }

    const view = this.viewFor(origin.env, origin.ctx)
    const folded = origin.refreshInBackground ? policy : this.#foldSwr(view, policy)
    // URL and path tags ride on the entry only: Cache-Tag (#outward) names the policy's own tags.
    const effective = this.#urlTags ? { ...folded, tags: [...(folded.tags ?? []), ...urlTags(new URL(request.url))] } : folded
    const key = await requestKey(request, this.#vary, this.#keyPrefix)
    const local: Local = { ran: false, passed: undefined, revalidated: false, variant: undefined }
    const target: LoadTarget = { view, request, callPolicy: effective, policy: originMode ? undefined : policy, primary: key, names: undefined }
    let status: ReadStatus = {}
    let value = await this.#lookup(key, target, this.#loads.loader(target, origin, local, originMode), status, origin, local)
    if (value instanceof Response) return value
    let variantMiss = false
    if (isVaryMarker(value)) {
      // The URL's responses vary on request fields the key leaves out: this request's variant has a key of its own.
      if (local.variant !== undefined) value = local.variant
      else {
        const names = value.vary
        status = {}
        const variant = await variantKey(key, names, request, this.#keyPrefix)
        const variantTarget: LoadTarget = { ...target, names }
        value = await this.#lookup(variant, variantTarget, this.#loads.loader(variantTarget, origin, local, originMode), status, origin, local)
        if (value instanceof Response) return value
        if (isVaryMarker(value) && local.variant !== undefined) value = local.variant
        variantMiss = status.state === 'loaded'
      }
    }
    if (isStoredResponse(value)) {
      let answered = local.revalidated && status.state === 'loaded' ? ({ hit: false, fwd: 'stale', stored: true } satisfies CacheStatus) : statusOf(status)
      if (variantMiss && answered.fwd === 'miss') answered = { ...answered, fwd: 'vary-miss' }
      return this.#render(value, request, answered, this.#outward(view, policy, request), status.state === 'stale')
    }
    const outward = originMode ? undefined : { view, policy, request }
    if (isVaryMarker(value)) {
      // Another request's load changed the URL's Vary: this request asks the origin itself.
      return this.#passThrough(await origin.fetch(request, false), { hit: false, fwd: 'vary-miss', collapsed: true }, outward)
    }
    const passReason = (value as PassMarker).pass
    if (local.passed !== undefined) return this.#passThrough(local.passed, { hit: false, fwd: 'miss', detail: `not-stored:${passReason}` }, outward)
    // Only the request that fetched an uncacheable response may see it; the others ask the origin themselves.
    const answered: CacheStatus = { hit: false, fwd: 'miss', collapsed: status.collapsed === true, detail: `not-stored:${passReason}` }
    return this.#passThrough(await origin.fetch(request, false), answered, outward)
  }

  /**
   * getOrSet of one key; when it fails, the answer for the client instead: the origin's own failure (nothing stale
   * could answer), or, when this request only joined another's failed load, the origin asked again.
   */
  async #lookup(key: string, target: LoadTarget, loader: Loader<unknown>, status: ReadStatus, origin: Origin<Env>, local: Local): Promise<unknown> {
    const { request, view, callPolicy } = target
    try {
      return await view.getOrSet(key, loader, callPolicy, { status })
    } catch (error) {
      // A load that ran past hardTimeout brought no answer to keep from this request, and asking the origin again
      // (uncached, with no timeout) would hold it as long as the origin hangs: it fails with the load it joined.
      if (!local.ran && !(error instanceof CacheError && error.code === 'LOADER_TIMEOUT')) {
        // Another request's failure (this one joined its load): its answer may reflect that request (its headers,
        // its cookies), so this one asks the origin itself, uncached.
        const { policy } = target
        const outward = policy === undefined ? undefined : { view, policy, request }
        return this.#passThrough(await origin.fetch(request, false), { hit: false, fwd: 'miss', collapsed: true }, outward)
      }
      if (!(error instanceof OriginError)) throw error
      // The origin failed and nothing stale could answer: its own answer, uncached.
      const headers = new Headers(error.headers)
      headers.append('cache-status', formatCacheStatus({ hit: false, fwd: 'miss', detail: 'not-stored:error' }, this.#statusName))
      return new Response(request.method === 'HEAD' ? null : error.bytes, { status: error.status, headers })
    }
  }

  /**
   * After an unsafe method (POST, PUT, DELETE, PATCH, ...) that did not fail, the stored GET of its URL, and of the
   * same-origin URLs in its Location and Content-Location, are dropped (RFC 9111 §4.4). Tier failures are reported
   * by core as events; the client's answer never waits on more than the deletes.
   */
  async #invalidateAfterUnsafe(request: Request, response: Response, origin: Origin<Env>): Promise<void> {
    if (SAFE_METHODS.has(request.method) || response.status < 200 || response.status > 399) return
    const base = new URL(request.url)
    const urls = [base.href]
    for (const name of ['location', 'content-location']) {
      const value = response.headers.get(name)
      if (value === null) continue
      try {
        const url = new URL(value, base)
        if (url.origin === base.origin) urls.push(url.href)
      } catch {
        // Not a URL: nothing to invalidate.
      }
    }
    const view = this.viewFor(origin.env, origin.ctx)
    await Promise.allSettled(urls.map(async (url) => view.delete(await requestKey(new Request(url, { headers: request.headers }), this.#vary, this.#keyPrefix))))
  }

  /** The scope and the tags (as the app wrote them, without the namespace) of this request's answer. */
  #outward(view: Cache, policy: Policy, request: Request): Outward {
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
  #render(stored: StoredResponse, request: Request, status: CacheStatus, outward: Outward, stale = false): Response {
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
    if (this.#vary.length > 0) headers.set('vary', mergeVary(headers.get('vary'), this.#vary))
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
  #passThrough(response: Response, status: CacheStatus, outward?: { view: Cache; policy: Policy; request: Request }): Response {
    // 101 and codes outside 200-599 (999) cannot be rebuilt (the Response constructor rejects them): untouched.
    if (response.status < 200 || response.status > 599) return response
    const out = new Response(response.body, response)
    if (outward !== undefined && this.#outwardOnPass(response, status)) {
      const { view, policy, request } = outward
      const resolved = view.resolvePolicy(policy)
      const now = this.#now()
      const entry = { value: null, createdAt: now, freshUntil: now + resolved.ttl, staleUntil: now + resolved.ttl + resolved.swr, errorUntil: now + resolved.ttl + resolved.staleIfError }
      for (const name of OUTWARD_FIELDS) out.headers.delete(name)
      const headers = outwardHeaders(entry, this.#outwardOptions(now, this.#outward(view, policy, request)))
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

  /** Without background refreshes, the swr window is served like stale-if-error: the request revalidates itself. */
  #foldSwr(view: Cache, policy: Policy): Policy {
    let folded = this.#folded.get(policy)
    if (folded === undefined) {
      const resolved = view.resolvePolicy(policy)
      folded = { ...policy, swr: 0, staleIfError: Math.max(resolved.swr, resolved.staleIfError), earlyRefresh: false }
      this.#folded.set(policy, folded)
    }
    return folded
  }
}

/** Header names, checked and lowercased. */
function headerNames(names: readonly unknown[], where: string): string[] {
  return names.map((name: unknown, i) => {
    if (typeof name !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new TypeError(`${where}[${i}] must be a header name, got ${JSON.stringify(name)}`)
    }
    return name.toLowerCase()
  })
}

/** Which caches outside tiercache may keep an answer, and the tags they mark it with. */
interface Outward {
  scope: HeaderScope
  tags: string[] | undefined
}

/** A Vary value naming every field in `current` and in `names`, each once (case-insensitive). */
function mergeVary(current: string | null, names: readonly string[]): string {
  const fields = current === null ? [] : current.split(',').map((f) => f.trim()).filter((f) => f !== '')
  const seen = new Set(fields.map((f) => f.toLowerCase()))
  for (const name of names) if (!seen.has(name)) fields.push(name)
  return fields.join(', ')
}

function isCache(value: unknown): value is Cache {
  const c = value as Partial<Cache> | null
  return typeof c === 'object' && c !== null && typeof c.getOrSet === 'function' && typeof c.withContext === 'function'
}
