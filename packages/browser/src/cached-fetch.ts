import {
  createCache,
  formatCacheStatus,
  memoryStore,
  type Cache,
  type CacheStatus,
  type Duration,
  type LoaderContext,
  type Policy,
  type Store,
} from '@tiercache/core'
import { parseCacheControl, responseWindows, type FallbackWindows } from './http-freshness.js'
import { indexedDbCoordinator } from './indexeddb-coordinator.js'
import { indexedDbStore } from './indexeddb-store.js'
import { checkOptions, optionalDuration, optionalFunction, optionalPositiveInteger, optionalString, typeOf } from './options.js'
import {
  answers,
  encodeBody,
  freshenHeaders,
  isStoredResponse,
  selectedValue,
  selectedValues,
  storableHeaders,
  toResponse,
  varyNames,
  withCacheStatus,
  type StoredResponse,
} from './stored-response.js'

/**
 * Options of `createCachedFetch`.
 *
 * @example
 * const options: CachedFetchOptions = { cache, policy: { ttl: '30s', tags: ['api'] }, retain: '1h' }
 */
export interface CachedFetchOptions {
  /**
   * Where responses are kept. Pass the same `now` to it (and to its stores) as to this fetch when you inject a clock.
   * @default createCache({ tiers: [memoryStore(), indexedDbStore()], coordinator: indexedDbCoordinator() }) (memory only where IndexedDB does not exist)
   */
  cache?: Cache
  /**
   * Freshness for responses that state none (no max-age, no Expires, no no-cache): `ttl`, `swr`, `staleIfError`.
   * Its `tags` go on every stored response (for `cache.invalidateTags`). A function picks per request;
   * returning undefined sends that request straight to the network, uncached.
   * @default none: such responses are stored only to be revalidated (when they carry ETag or Last-Modified)
   */
  policy?: Policy | ((request: Request) => Policy | undefined)
  /** The fetch that reaches the network. @default globalThis.fetch */
  fetch?: typeof fetch
  /** Clock in epoch ms. @default Date.now */
  now?: () => number
  /** Prefix of every cache key this fetch writes. @default 'fetch:' */
  keyPrefix?: string
  /**
   * How long a response stays stored after it went stale, to be revalidated with its ETag / Last-Modified
   * (a 304 then refreshes it) and to answer while offline. Capped by each tier's maxTtl.
   * @default '1d'
   */
  retain?: Duration
  /** Larger bodies are passed through, not stored. @default 5 MiB */
  maxBodyBytes?: number
  /** This cache's name in the Cache-Status header (an RFC 8941 token). @default 'tiercache' */
  cacheName?: string
}

/** What a stored value is when the response was not kept: an entry that dies at once (removing the old one). */
interface PassMarker {
  v: 1
  pass: 1
}
type CachedValue = StoredResponse | PassMarker

/** How one request was answered. */
type Outcome =
  /** From a stored response (fresh, stale, revalidated or just stored). */
  | { kind: 'stored'; stored: StoredResponse; status: CacheStatus; fwdStatus?: number; age: boolean }
  /** The network's response as it came, not stored; only its initiator may read it. */
  | { kind: 'raw'; response: Response; status: CacheStatus; fwdStatus: number }
  /** A collapsed request whose shared answer was not storable: it goes to the network itself. */
  | { kind: 'refetch' }
  /** A stored response for another Vary variant of the URL. */
  | { kind: 'mismatch'; stored: StoredResponse }

interface Exchange {
  value: CachedValue
  /** The entry's windows for core, relative to when the load started. */
  policy: Partial<Policy>
  outcome: Outcome
}

/** A failed exchange: the network error, or a 5xx (then `response`); `forbidStale` when no stored response may stand in. */
class Failure extends Error {
  constructor(
    readonly error: unknown,
    readonly response: Response | undefined,
    readonly forbidStale: boolean,
  ) {
    super(response === undefined ? 'network error' : `origin answered ${response.status}`, { cause: error })
  }
}

/** What one getOrSet call's loader did, read after the call. */
interface Attempt {
  request: Request
  url: string
  gen: string | undefined
  fwd: CacheStatus['fwd']
  policy: RequestPolicy
  done: boolean
  loaded?: Exchange
  failure?: Failure
}

/** The getOrSet policy of a request (tags only; HTTP sets the lifetimes) and the freshness for silent responses. */
interface RequestPolicy {
  call: Partial<Policy>
  fallback: FallbackWindows
}

const DEAD: Partial<Policy> = { ttl: 0, swr: 0, staleIfError: 0 }
/** Statuses a cache may store with any freshness, the policy's included (RFC 9110 §15.1 "heuristically cacheable"). */
const HEURISTIC = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414])
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
/** The errors stale-if-error covers (RFC 5861 §4). */
const STALE_IF_ERROR_STATUSES = new Set([500, 502, 503, 504])
const CALLER_CONDITIONS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range']
const NO_FALLBACK: FallbackWindows = { ttl: 0, swr: 0, staleIfError: 0 }
/** Core's default key limit: longer keys are shortened with a hash (and verified against the stored URL). */
const MAX_KEY = 1024

/**
 * A drop-in `fetch` whose GET and HEAD requests go through a tiercache cache and follow the server's HTTP caching
 * headers (RFC 9111 for a private cache, RFC 5861 for stale-while-revalidate / stale-if-error).
 *
 * - Freshness from `Cache-Control: max-age` or `Expires` - `Date`, minus the age (`Age`, `Date`, request time);
 *   `policy` only when the response says nothing. `s-maxage` is ignored (shared caches only).
 * - `no-store` responses are never stored; `no-cache` ones are stored and revalidated on every use.
 * - Stale responses are revalidated with `If-None-Match` / `If-Modified-Since`; a 304 refreshes the stored headers
 *   and lifetime. Within `stale-while-revalidate` the stale response answers at once and revalidation runs in the
 *   background. Within `stale-if-error`, a 5xx gets the stored response instead; offline (fetch rejects) any
 *   stored response that is not no-cache / must-revalidate answers.
 * - Keyed by URL and the request headers the response's `Vary` names. Concurrent identical requests share one
 *   network request. Every answer is a new `Response` with its own body.
 * - `Cache-Status` (RFC 9211) gets a `tiercache` member saying what happened, e.g.
 *   `tiercache; hit; ttl=42; detail=memory` (the tier that answered) or `tiercache; fwd=stale; fwd-status=304; stored; detail=network`.
 * - Other methods go to the network untouched; after a non-error answer to an unsafe one (POST, PUT, DELETE, …)
 *   the URL's stored response is dropped (RFC 9111 §4.4).
 * - The network is always asked with `cache: 'no-store'`, so the browser's own HTTP cache does not answer first.
 *
 * @example
 * const cachedFetch = createCachedFetch({ policy: { ttl: '30s', swr: '5m' } })
 * const res = await cachedFetch('/api/products')
 * res.headers.get('cache-status') // 'tiercache; hit; ttl=12; detail=indexeddb'
 */
export function createCachedFetch(options: CachedFetchOptions = {}): typeof fetch {
  checkOptions(options, 'createCachedFetch')
  const now = optionalFunction<() => number>(options.now, 'options.now', Date.now)
  const givenFetch = optionalFunction<typeof fetch | undefined>(options.fetch, 'options.fetch', globalThis.fetch?.bind(globalThis))
  if (givenFetch === undefined) throw new TypeError('options.fetch is required where there is no global fetch')
  const upstream: typeof fetch = givenFetch
  const cache = options.cache ?? defaultCache(now)
  if (typeof cache !== 'object' || cache === null || typeof cache.getOrSet !== 'function' || typeof cache.subscribe !== 'function') {
    throw new TypeError(`options.cache must be a cache from createCache(), got ${typeOf(cache)}`)
  }
  const policyOption = options.policy
  if (policyOption !== undefined && typeof policyOption !== 'function') cache.resolvePolicy(policyOption) // throws naming the rule
  const prefix = options.keyPrefix === undefined ? 'fetch:' : optionalString(options.keyPrefix, 'options.keyPrefix', 'fetch:')
  const retain = optionalDuration(options.retain, 'options.retain', 86_400_000)
  const maxBodyBytes = optionalPositiveInteger(options.maxBodyBytes, 'options.maxBodyBytes', 5 * 1024 * 1024)
  const cacheName = optionalString(options.cacheName, 'options.cacheName', 'tiercache')
  formatCacheStatus({ hit: true }, cacheName) // throws when it is not a token
  const keyRoom = MAX_KEY - (cache.namespace === '' ? 0 : cache.namespace.length + 1)
  const staticPolicy = policyOption === undefined || typeof policyOption === 'object' ? callPolicy(policyOption) : undefined

  /** Which tier answered the getOrSet call running for a key: core reports it synchronously with the hit. */
  const answeredBy = new Map<string, string | undefined>()
  cache.subscribe((event) => {
    if ((event.type === 'hit' || (event.type === 'stale' && event.reason === 'swr')) && answeredBy.has(event.key)) {
      answeredBy.set(event.key, event.tier)
    }
  })
  /** One getOrSet per key at a time; collapsed requests share its outcome. */
  const inflight = new Map<string, Promise<Outcome>>()

  // ---------------------------------------------------------------- keys

  function fitKey(key: string): string {
    return key.length <= keyRoom ? key : `${key.slice(0, keyRoom - 16)}#${hash(key)}`
  }
  const baseKey = (url: string): string => fitKey(`${prefix}GET ${url}`)
  const variantKey = (url: string, of: StoredResponse, headers: Headers): string =>
    fitKey(`${prefix}GET ${url} ${of.gen ?? ''} ${JSON.stringify(Object.keys(of.vary ?? {}).map((name) => selectedValue(headers, name)))}`)

  // ---------------------------------------------------------------- policies

  /** The policy of getOrSet calls: tags from the caller's, and nothing that would bend HTTP's lifetimes. */
  function callPolicy(policy: Policy | undefined): RequestPolicy {
    const resolved = policy === undefined ? undefined : cache.resolvePolicy(policy)
    const call: Partial<Policy> = { ttl: 0, swr: 0, staleIfError: 0, jitter: 0, earlyRefresh: false, timeout: 0, hardTimeout: 0 }
    if (policy?.tags !== undefined) call.tags = policy.tags
    const fallback = resolved === undefined ? NO_FALLBACK : { ttl: resolved.ttl, swr: resolved.swr, staleIfError: resolved.staleIfError }
    return { call, fallback }
  }

  /** The entry windows for core, relative to `start` (when the load began; core's createdAt is that moment too). */
  function entryPolicy(stored: StoredResponse, start: number): Partial<Policy> {
    const ttl = Math.max(0, stored.freshUntil - start)
    // Kept past its windows (retain) to be revalidated with its validators, and to answer offline.
    const keepUntil = Math.max(stored.errorUntil, stored.staleUntil, stored.freshUntil + retain)
    return {
      ttl,
      swr: Math.max(0, stored.staleUntil - start - ttl),
      staleIfError: Math.max(0, keepUntil - start - ttl),
    }
  }

  // ---------------------------------------------------------------- the network

  /** One request to the network, conditional when a stored response can be revalidated; decides what to keep. */
  async function exchange(request: Request, url: string, stale: StoredResponse | undefined, gen: string, fallback: FallbackWindows, fwd: CacheStatus['fwd']): Promise<Exchange> {
    const headers = new Headers(request.headers)
    if (stale !== undefined) {
      // RFC 9111 §4.3.1: validators of the stored response.
      const etag = stale.headers.find(([name]) => name === 'etag')?.[1]
      const lastModified = stale.headers.find(([name]) => name === 'last-modified')?.[1]
      if (etag !== undefined) headers.set('if-none-match', etag)
      if (lastModified !== undefined) headers.set('if-modified-since', lastModified)
    }
    const requestTime = now()
    let response: Response
    try {
      // no-store: the browser's HTTP cache must neither answer nor revalidate on its own. No signal: the
      // request is shared by every collapsed caller, and one of them giving up must not cancel the others.
      response = await upstream(new Request(request, { headers, cache: 'no-store', signal: null }))
    } catch (error) {
      // RFC 9111 §4.2.4: a cache cut off from the origin may answer stale, unless no-cache or must-revalidate forbid it.
      throw new Failure(error, undefined, stale === undefined || stale.noCache === 1 || stale.mustRevalidate === 1)
    }
    const responseTime = now()
    const forwarded = fwd === 'request' || stale === undefined ? fwd : 'stale'

    if (response.status === 304 && stale !== undefined) {
      // RFC 9111 §4.3.4: the 304 freshens the stored response: its fields replace the stored ones, and its Date,
      // Age and Cache-Control give the new lifetime.
      const merged = new Headers(freshenHeaders(stale.headers, response.headers))
      const windows = responseWindows(merged, requestTime, responseTime, fallback)
      // The flags come from the merged fields alone: a 304 may drop a no-cache the stored response had.
      const { noCache: _noCache, mustRevalidate: _mustRevalidate, ...kept } = stale
      const stored: StoredResponse = {
        ...kept,
        headers: storableHeaders(merged),
        requestTime,
        responseTime,
        ...windowFields(windows),
      }
      return { value: stored, policy: entryPolicy(stored, requestTime), outcome: { kind: 'stored', stored, status: { hit: false, fwd: forwarded, stored: true, detail: 'network' }, fwdStatus: 304, age: true } }
    }
    if (response.status >= 500 && stale !== undefined) {
      // RFC 5861 §4 / RFC 9111 §4.3.3: a 500, 502, 503 or 504 may be answered with the stored response within
      // stale-if-error. Other 5xx go to the caller; the stored response stays either way.
      const allowed = STALE_IF_ERROR_STATUSES.has(response.status) && responseTime < stale.errorUntil
      throw new Failure(new Error(`${url} answered ${response.status}`), response, !allowed)
    }

    const pass = (res: Response): Exchange => ({
      value: { v: 1, pass: 1 },
      policy: DEAD,
      outcome: { kind: 'raw', response: res, status: { hit: false, fwd: forwarded, detail: 'network' }, fwdStatus: res.status },
    })
    if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.status < 200 || response.status === 206 || response.status >= 500) {
      return pass(response)
    }
    const windows = responseWindows(response.headers, requestTime, responseTime, fallback)
    const names = varyNames(response.headers)
    const validators = response.headers.has('etag') || response.headers.has('last-modified')
    const keepsSomething = windows.staleUntil > requestTime || windows.errorUntil > requestTime || windows.freshUntil > requestTime || validators
    if (
      windows.directives.noStore || // RFC 9111 §5.2.2.5
      names === '*' || // §4.1: Vary: * never matches
      names.includes('cookie') || // the page cannot see the cookie the browser sends: a variant per cookie is impossible
      (!HEURISTIC.has(response.status) && !windows.explicit) || // §3: other statuses need explicit freshness
      !keepsSomething ||
      (response.headers.get('content-type') ?? '').startsWith('text/event-stream') ||
      Number(response.headers.get('content-length') ?? 0) > maxBodyBytes
    ) {
      return pass(response)
    }
    const bytes = new Uint8Array(await response.arrayBuffer())
    if (bytes.byteLength > maxBodyBytes) {
      return pass(new Response(bytes, { status: response.status, statusText: response.statusText, headers: response.headers }))
    }
    const stored: StoredResponse = {
      v: 1,
      url,
      status: response.status,
      statusText: response.statusText,
      headers: storableHeaders(response.headers),
      ...encodeBody(bytes),
      requestTime,
      responseTime,
      ...windowFields(windows),
    }
    if (response.redirected && response.url !== '' && response.url !== url) stored.finalUrl = response.url
    if (names.length > 0) stored.vary = selectedValues(names, request.headers)
    stored.gen = gen
    return {
      value: stored,
      policy: entryPolicy(stored, requestTime),
      outcome: { kind: 'stored', stored, status: { hit: false, fwd: forwarded, stored: true, detail: 'network' }, fwdStatus: response.status, age: false },
    }
  }

  // ---------------------------------------------------------------- through the cache

  /** getOrSet on `key` with the exchange as loader; what the loader did tells how the call was answered. */
  async function viaCore(key: string, attempt: Attempt): Promise<Outcome> {
    answeredBy.set(key, undefined)
    let value: CachedValue | null
    let tier: string | undefined
    try {
      value = await cache.getOrSet<CachedValue>(key, (ctx) => load(ctx, attempt), attempt.policy.call)
    } catch (error) {
      // No stored response could stand in: a 5xx goes back as the origin sent it, a network error as thrown.
      if (attempt.failure?.response !== undefined) return raw(attempt.failure.response, 'stale')
      throw error
    } finally {
      attempt.done = true
      tier = answeredBy.get(key)
      answeredBy.delete(key)
    }
    const { loaded, failure } = attempt
    if (loaded !== undefined && loaded.value === value) return loaded.outcome
    if (failure !== undefined) {
      // Core answered with the stored response because the load failed: allowed only where HTTP allows it.
      if (failure.forbidStale || !isStoredResponse(value) || !answers(value, attempt.url, attempt.request.headers)) {
        if (failure.response !== undefined) return raw(failure.response, 'stale')
        throw failure.error
      }
      const outcome: Outcome = { kind: 'stored', stored: value, status: { hit: false, fwd: 'stale', detail: 'stale-if-error' }, age: true }
      if (failure.response !== undefined) {
        outcome.fwdStatus = failure.response.status
        void failure.response.body?.cancel().catch(() => undefined)
      }
      return outcome
    }
    if (!isStoredResponse(value)) return { kind: 'refetch' }
    if (!answers(value, attempt.url, attempt.request.headers)) return { kind: 'mismatch', stored: value }
    if (tier === undefined) return { kind: 'stored', stored: value, status: { hit: false, fwd: attempt.fwd, collapsed: true, detail: 'network' }, age: true }
    return { kind: 'stored', stored: value, status: { hit: true, detail: tier }, age: true }
  }

  async function load(ctx: LoaderContext<CachedValue>, attempt: Attempt): Promise<CachedValue> {
    const previous = isStoredResponse(ctx.staleValue) ? ctx.staleValue : undefined
    // Only a stored response for this very request (URL, Vary values) may be revalidated or stand in.
    const stale = previous !== undefined && answers(previous, attempt.url, attempt.request.headers) ? previous : undefined
    const gen = attempt.gen ?? previous?.gen ?? newGen()
    let result: Exchange
    try {
      result = await exchange(attempt.request, attempt.url, stale, gen, attempt.policy.fallback, attempt.fwd)
    } catch (error) {
      if (error instanceof Failure) {
        attempt.failure = error
        // In a background refresh nobody reads the 5xx: the stale response keeps answering.
        if (attempt.done) void error.response?.body?.cancel().catch(() => undefined)
        throw error.error
      }
      throw error
    }
    ctx.setPolicy(result.policy)
    attempt.loaded = result
    // A background refresh (stale-while-revalidate) has no caller left to read a response that was not stored.
    if (attempt.done && result.outcome.kind === 'raw') void result.outcome.response.body?.cancel().catch(() => undefined)
    return result.value
  }

  /** request cache mode 'reload' / 'no-cache' (or request Cache-Control no-cache): to the network, then stored. */
  async function forced(key: string, request: Request, url: string, policy: RequestPolicy, revalidate: boolean, gen: string | undefined): Promise<Outcome> {
    const current = await cache.get<CachedValue>(key)
    const stored = isStoredResponse(current) ? current : undefined
    const stale = revalidate && stored !== undefined && answers(stored, url, request.headers) ? stored : undefined
    let result: Exchange
    try {
      result = await exchange(request, url, stale, gen ?? stored?.gen ?? newGen(), policy.fallback, 'request')
    } catch (error) {
      // The request asked for the origin's answer: no stored response stands in.
      if (error instanceof Failure) {
        if (error.response !== undefined) return raw(error.response, 'request')
        throw error.error
      }
      throw error
    }
    if (result.outcome.kind === 'raw') await cache.delete(key)
    else await cache.set(key, result.value, { ...policy.call, ...result.policy })
    return result.outcome
  }

  async function lookup(
    key: string,
    request: Request,
    url: string,
    policy: RequestPolicy,
    mode: 'default' | 'reload' | 'revalidate',
    gen: string | undefined,
    fwd: CacheStatus['fwd'],
  ): Promise<Outcome> {
    if (mode !== 'default') return forced(key, request, url, policy, mode === 'revalidate', gen)
    const running = inflight.get(key)
    if (running !== undefined) return collapse(await running, request, url)
    const attempt: Attempt = { request, url, gen, fwd, policy, done: false }
    const promise = viaCore(key, attempt)
    inflight.set(key, promise)
    const clear = (): void => {
      if (inflight.get(key) === promise) inflight.delete(key)
    }
    promise.then(clear, clear)
    return promise
  }

  async function get(request: Request, url: string, policy: RequestPolicy): Promise<Response> {
    const directives = parseCacheControl(request.headers.get('cache-control'))
    // RFC 9111 §5.2.1.4 (request no-cache) and §5.2.1.1 (request max-age=0): use nothing stored without revalidation.
    const mode = request.cache === 'reload' ? 'reload' : request.cache === 'no-cache' || directives.noCache || directives.maxAge === 0 ? 'revalidate' : 'default'
    let outcome = await lookup(baseKey(url), request, url, policy, mode, undefined, 'uri-miss')
    if (outcome.kind === 'mismatch') {
      const of = outcome.stored
      const key = variantKey(url, of, request.headers)
      outcome = await lookup(key, request, url, policy, mode, of.gen, 'vary-miss')
      // A variant stored under this key for other header values (a hash collision, or Vary changed): replace it.
      if (outcome.kind === 'mismatch') outcome = await lookup(key, request, url, policy, 'reload', of.gen, 'vary-miss')
    }
    switch (outcome.kind) {
      case 'stored':
        return toResponse(outcome.stored, { method: 'GET', now: now(), age: outcome.age, cacheStatus: member(outcome.status, outcome.stored, outcome.fwdStatus) })
      case 'raw':
        return withCacheStatus(outcome.response, member(outcome.status, undefined, outcome.fwdStatus))
      default:
        return upstream(new Request(request, { cache: 'no-store' }))
    }
  }

  /** HEAD is answered from a fresh stored GET response (RFC 9110 §9.3.2), else sent to the network as is. */
  async function head(request: Request, url: string): Promise<Response> {
    let value = await cache.get<CachedValue>(baseKey(url))
    if (isStoredResponse(value) && value.url === url && !answers(value, url, request.headers)) {
      value = await cache.get<CachedValue>(variantKey(url, value, request.headers))
    }
    const at = now()
    if (isStoredResponse(value) && answers(value, url, request.headers) && at < value.freshUntil) {
      return toResponse(value, { method: 'HEAD', now: at, age: true, cacheStatus: member({ hit: true }, value) })
    }
    return upstream(request)
  }

  /** RFC 9111 §4.4: a non-error answer to an unsafe method invalidates the URL, and same-origin Location / Content-Location. */
  async function unsafe(input: RequestInfo | URL, init: RequestInit | undefined, method: string): Promise<Response> {
    const response = await upstream(input, init)
    if (SAFE_METHODS.has(method) || response.status < 200 || response.status >= 400) return response
    const target = absoluteUrl(input instanceof Request ? input.url : String(input), globalThis.location?.href)
    if (target === undefined) return response
    const urls = [target.href]
    for (const field of ['location', 'content-location']) {
      const other = absoluteUrl(response.headers.get(field), target.href)
      if (other !== undefined && other.origin === target.origin) urls.push(other.href)
    }
    await Promise.allSettled(urls.map((u) => cache.delete(baseKey(u))))
    return response
  }

  function policyFor(request: Request): RequestPolicy | undefined {
    if (staticPolicy !== undefined) return staticPolicy
    const chosen = (policyOption as (request: Request) => Policy | undefined)(request)
    return chosen === undefined ? undefined : callPolicy(chosen)
  }

  /** The Cache-Status member (RFC 9211 §2); ttl is the stored response's remaining freshness, negative when stale. */
  function member(status: CacheStatus, stored: StoredResponse | undefined, fwdStatus?: number): string {
    const withTtl = stored !== undefined ? { ...status, ttl: Math.floor((stored.freshUntil - now()) / 1000) } : status
    const text = formatCacheStatus(withTtl, cacheName)
    return fwdStatus === undefined ? text : text.replace(/(; fwd=[^;]+)/, `$1; fwd-status=${fwdStatus}`)
  }

  return async function cachedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
    if (method !== 'GET' && method !== 'HEAD') return unsafe(input, init, method)
    const request = new Request(input, init)
    const directives = parseCacheControl(request.headers.get('cache-control'))
    const policy =
      request.cache === 'no-store' || // RFC 9111 §5.2.1.5 and the Fetch cache mode: neither use nor store
      directives.noStore ||
      // The caller validates or asks for a range itself: its answer is for it alone.
      CALLER_CONDITIONS.some((name) => request.headers.has(name))
        ? undefined
        : policyFor(request)
    if (policy === undefined) return upstream(request)
    const url = request.url.replace(/#.*$/, '')
    return abortable(method === 'HEAD' ? head(request, url) : get(request, url, policy), request.signal)
  }
}

/** What a collapsed request gets from the request it joined. */
function collapse(shared: Outcome, request: Request, url: string): Outcome {
  if (shared.kind === 'raw' || shared.kind === 'refetch') return { kind: 'refetch' }
  if (!answers(shared.stored, url, request.headers)) return { kind: 'mismatch', stored: shared.stored }
  if (shared.kind === 'mismatch') return { kind: 'stored', stored: shared.stored, status: { hit: true }, age: true }
  return { ...shared, status: { ...shared.status, collapsed: true } }
}

function raw(response: Response, fwd: CacheStatus['fwd']): Outcome {
  return { kind: 'raw', response, status: { hit: false, fwd, detail: 'network' }, fwdStatus: response.status }
}

/** The stored form of a response's serving windows and no-stale flags. */
function windowFields(windows: ReturnType<typeof responseWindows>): Pick<StoredResponse, 'initialAge' | 'freshUntil' | 'staleUntil' | 'errorUntil' | 'noCache' | 'mustRevalidate'> {
  const out: Pick<StoredResponse, 'initialAge' | 'freshUntil' | 'staleUntil' | 'errorUntil' | 'noCache' | 'mustRevalidate'> = {
    initialAge: windows.initialAge,
    freshUntil: windows.freshUntil,
    staleUntil: windows.staleUntil,
    errorUntil: windows.errorUntil,
  }
  if (windows.directives.noCache) out.noCache = 1
  if (windows.directives.mustRevalidate) out.mustRevalidate = 1
  return out
}

function defaultCache(now: () => number): Cache {
  if (typeof indexedDB === 'undefined') return createCache({ tiers: [memoryStore()], now })
  // Tag invalidations must outlive the page as the IndexedDB entries do (made by another cache on these databases).
  const tiers: Store[] = [memoryStore(), indexedDbStore({ now })]
  return createCache({ tiers, coordinator: indexedDbCoordinator({ now }), now })
}

/** Rejects with the signal's reason as soon as it aborts; the shared work goes on for other callers. */
function abortable<T>(work: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (signal === null || signal === undefined) return work
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

function absoluteUrl(value: string | null, base: string | undefined): URL | undefined {
  if (value === null) return undefined
  try {
    return new URL(value, base)
  } catch {
    return undefined
  }
}

function newGen(): string {
  return Math.random().toString(36).slice(2, 10)
}

/** cyrb53: a fast 53-bit string hash, for shortening over-long keys. */
function hash(text: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)
}
