import {
  CacheError,
  formatCacheStatus,
  parseDuration,
  type Cache,
  type CacheStatus,
  type Loader,
  type Policy,
  type ReadStatus,
} from '@tiercache/core'
import { resolvePolicy } from '@tiercache/core/store'
import { requestPass, type ResponseRules } from './cacheability.js'
import { statusOf } from './cache-status.js'
import { assertTagOptions, cdnTags, type CacheTagOptions } from './cdn-headers.js'
import { isVaryMarker, variantKey } from './learned-vary.js'
import { urlTags } from './url-tags.js'
import { ResponseRenderer } from './response-render.js'
import { requestKey, UNKEYED_HEADERS, withoutHeaders } from './request-key.js'
import { isStoredResponse } from './stored-response.js'
import type { ExecutionContextLike, Origin, ResponseCacheOptions } from './response-options.js'
import { OriginError, ResponseLoader, type Local, type LoadTarget, type PassMarker } from './response-loader.js'
import { assertOptions, optionalBoolean, optionalFunction, optionalInteger, optionalString, typeOf } from '@tiercache/core/kit'

/** Methods that never change the resource (RFC 9110 §9.2.1): anything else invalidates the stored GET. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/** Origin mode's call policy: each load sets the entry's windows from the response (setPolicy). */
const ORIGIN_CALL_POLICY: Policy = { ttl: 1000, swr: 0, staleIfError: 0, jitter: 0, earlyRefresh: false }

/** Resolved options and per-isolate state of one withCache or tiercache() instance. */
export class ResponseCache<Env> {
  readonly #cacheOption: ResponseCacheOptions<Env>['cache']
  readonly #policy: ResponseCacheOptions<Env>['policy']
  readonly #vary: readonly string[]
  readonly #urlTags: boolean
  readonly #tagOptions: CacheTagOptions | undefined
  readonly #allowAuthorization: boolean | undefined
  readonly #allowCookie: boolean | undefined
  readonly #unkeyed: 'strip' | 'bypass' | 'allow'
  readonly #unkeyedNames: readonly string[]
  readonly #keyPrefix: string
  readonly #statusName: string
  readonly #loads: ResponseLoader<Env>
  readonly #renderer: ResponseRenderer
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
    const rules: ResponseRules = { vary: new Set(this.#vary), negative: false, maxBodySize: options.maxBodySize ?? 512 * 1024 }
    const now = options.now ?? Date.now
    this.#urlTags = options.urlTags ?? false
    this.#tagOptions = options.tagOptions
    this.#renderer = new ResponseRenderer(options, scope, this.#vary, rules, statusName, now)
    this.#allowAuthorization = options.allowAuthorization
    this.#allowCookie = options.allowCookie
    const surrogate = options.surrogateControl === false ? undefined : statusName
    this.#keyPrefix = options.keyPrefix ?? 'res:'
    this.#statusName = statusName
    this.#loads = new ResponseLoader(
      now,
      rules,
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
      return this.#renderer.passThrough(response, { hit: false, fwd: 'method', detail: early })
    }
    const chosen = typeof this.#policy === 'function' ? this.#policy(request, origin.env) : this.#policy
    const originMode = chosen === 'origin'
    // Credentials: the options decide; in origin mode, when unset, RFC 9111 does (Cookie is no reason to bypass, an
    // answer to Authorization is stored only when it says so: see #loadOrigin).
    const reason = requestPass(request, {
      allowAuthorization: this.#allowAuthorization ?? originMode,
      allowCookie: this.#allowCookie ?? originMode,
    })
    if (reason !== undefined) return this.#renderer.passThrough(await origin.fetch(request, false), { hit: false, fwd: 'bypass', detail: reason })
    if (chosen === undefined) return this.#renderer.passThrough(await origin.fetch(request, false), { hit: false, fwd: 'bypass' })
    // Origin mode: every stored response sets its own windows from its headers; this only covers the call itself.
    const policy = originMode ? ORIGIN_CALL_POLICY : chosen
    if (this.#unkeyed !== 'allow') {
      const stripped = withoutHeaders(request, this.#unkeyedNames)
      if (stripped !== request && this.#unkeyed === 'bypass') {
        return this.#renderer.passThrough(await origin.fetch(request, false), { hit: false, fwd: 'bypass', detail: 'unkeyed-header' })
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
      return this.#renderer.render(value, request, answered, this.#renderer.outward(view, policy, request), status.state === 'stale')
    }
    const outward = originMode ? undefined : { view, policy, request }
    if (isVaryMarker(value)) {
      // Another request's load changed the URL's Vary: this request asks the origin itself.
      return this.#renderer.passThrough(await origin.fetch(request, false), { hit: false, fwd: 'vary-miss', collapsed: true }, outward)
    }
    const passReason = (value as PassMarker).pass
    if (local.passed !== undefined) return this.#renderer.passThrough(local.passed, { hit: false, fwd: 'miss', detail: `not-stored:${passReason}` }, outward)
    // Only the request that fetched an uncacheable response may see it; the others ask the origin themselves.
    const answered: CacheStatus = { hit: false, fwd: 'miss', collapsed: status.collapsed === true, detail: `not-stored:${passReason}` }
    return this.#renderer.passThrough(await origin.fetch(request, false), answered, outward)
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
        return this.#renderer.passThrough(await origin.fetch(request, false), { hit: false, fwd: 'miss', collapsed: true }, outward)
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

function isCache(value: unknown): value is Cache {
  const c = value as Partial<Cache> | null
  return typeof c === 'object' && c !== null && typeof c.getOrSet === 'function' && typeof c.withContext === 'function'
}
