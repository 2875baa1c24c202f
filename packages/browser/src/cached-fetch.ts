import {
  createCache,
  formatCacheStatus,
  memoryStore,
  namespacePrefix,
  type Cache,
  type CacheStatus,
  type Policy,
  type ReadStatus,
  type Store,
} from '@tiercache/core'
import { decodeBody } from '@tiercache/core/http'
import { assertOptions, Flights, optionalDuration, optionalFunction, optionalInteger, optionalString, trackBackground, typeOf } from '@tiercache/core/kit'
import { abortable } from './abortable.js'
import type { CachedFetchOptions } from './cached-fetch-options.js'
import { freshened, keepable, keepUntil, networkRequest, storedResponse } from './exchange.js'
import { fetchKeys, newGen } from './fetch-keys.js'
import type { FallbackWindows } from './http-freshness.js'
import { indexedDbCoordinator } from './indexeddb-coordinator.js'
import { indexedDbStore } from './indexeddb-store.js'
import { invalidatedUrls } from './invalidation.js'
import { partialResponse, singleByteRange } from './range.js'
import { judge, requestRules, type RequestRules } from './request-rules.js'
import { answers, isStoredResponse, toResponse, withCacheStatus, type StoredResponse } from './stored-response.js'
import { exclusive, webLocks } from './web-locks.js'

export type { CachedFetchOptions } from './cached-fetch-options.js'

/** How one request was answered. */
type Outcome =
  /** From a stored response (fresh, stale, revalidated or just stored). */
  | { kind: 'stored'; stored: StoredResponse; status: CacheStatus; fwdStatus?: number; age: boolean }
  /** The network's response as it came, not stored; only its initiator may read it. */
  | { kind: 'raw'; response: Response; status: CacheStatus; fwdStatus: number }
  /** A collapsed request whose shared answer was not for it: it goes on by itself. */
  | { kind: 'again' }

/** What the cache holds for a request: the key its response lives (or would live) under, and the response if any. */
interface Found {
  key: string
  stored: StoredResponse | undefined
  /** The tier that answered the read. */
  tier: string | undefined
  /** Generation of the URL's Vary variants (for a variant key). */
  gen: string | undefined
  fwd: 'uri-miss' | 'vary-miss'
}

/** The getOrSet policy of a request (tags only; HTTP sets the lifetimes) and the freshness for silent responses. */
interface RequestPolicy {
  call: Partial<Policy>
  fallback: FallbackWindows
}

/** The errors stale-if-error covers (RFC 5861 §4). */
const STALE_IF_ERROR_STATUSES = new Set([500, 502, 503, 504])
/** The caller validates itself: its answer is for it alone. */
const CALLER_CONDITIONS = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range']
const NO_FALLBACK: FallbackWindows = { ttl: 0, swr: 0, staleIfError: 0, given: false }
/** Core's default key limit: longer keys are shortened with a hash (and verified against the stored URL). */
const MAX_KEY = 1024

/**
 * A drop-in `fetch` whose GET and HEAD requests go through a tiercache cache and follow the server's HTTP caching
 * headers (RFC 9111 for a private cache, RFC 5861 for stale-while-revalidate / stale-if-error).
 *
 * - Freshness from `Cache-Control: max-age` or `Expires` - `Date`, minus the age (`Age`, `Date`, request time);
 *   `policy` when the response says nothing; without a policy, 10% of the time since `Last-Modified` (heuristic
 *   freshness, RFC 9111 §4.2.2, at most a week) for the statuses RFC 9110 calls heuristically cacheable. An
 *   invalid `Age` makes a response stale. `s-maxage` is ignored (shared caches only).
 * - Stored: responses of those statuses, and of any other status (5xx included) that states its own freshness.
 *   Never stored: `no-store`, `must-understand` with an unknown status, `Vary: *` or `Vary: Cookie`, 206,
 *   Set-Cookie (dropped from stored responses) and the fields `Connection` names. `no-cache` ones are stored and
 *   revalidated on every use.
 * - Stale responses are revalidated with `If-None-Match` / `If-Modified-Since`; a 304 refreshes the stored headers
 *   and lifetime. Within `stale-while-revalidate` the stale response answers at once and revalidation runs in the
 *   background. Within `stale-if-error`, a 5xx gets the stored response instead; offline (fetch rejects) any
 *   stored response that is not no-cache / must-revalidate answers.
 * - The request's own directives count (RFC 9111 §5.2.1): `no-cache` and `cache: 'no-cache'` revalidate, `max-age`,
 *   `min-fresh` and `max-stale` bound what is used, `only-if-cached` answers 504 when nothing usable is stored,
 *   `no-store` and `cache: 'no-store'` bypass the cache, `cache: 'reload'` refetches and stores.
 * - A `Range` request for one byte range is answered 206 from a stored complete response.
 * - Keyed by URL and the request headers the response's `Vary` names. Concurrent identical requests share one
 *   network request, in this tab and, where the browser has Web Locks, across the origin's tabs (`lockWait`).
 *   Every answer is a new `Response` with its own body.
 * - `Cache-Status` (RFC 9211) gets a `tiercache` member saying what happened, e.g.
 *   `tiercache; hit; ttl=42; detail=memory` (the tier that answered) or `tiercache; fwd=stale; fwd-status=304; stored; detail=network`.
 * - Other methods go to the network untouched; after a non-error answer to an unsafe one (POST, PUT, DELETE, …)
 *   the URL's stored response is dropped (RFC 9111 §4.4).
 * - The network is asked with `cache: 'no-store'`, so the browser's own HTTP cache does not answer first, and, for
 *   same-origin requests, with empty `Cache-Control` and `Pragma` fields so that fetch does not add `no-cache` ones
 *   (see `networkRequest` in exchange.ts).
 *
 * @example
 * const cachedFetch = createCachedFetch({ policy: { ttl: '30s', swr: '5m' } })
 * const res = await cachedFetch('/api/products')
 * res.headers.get('cache-status') // 'tiercache; hit; ttl=12; detail=indexeddb'
 */
export function createCachedFetch(options: CachedFetchOptions = {}): typeof fetch {
  assertOptions(options, 'createCachedFetch(options)', true)
  const now = optionalFunction<() => number>(options.now, 'options.now') ?? Date.now
  const givenFetch = optionalFunction<typeof fetch>(options.fetch, 'options.fetch') ?? globalThis.fetch?.bind(globalThis)
  if (givenFetch === undefined) throw new TypeError('options.fetch is required where there is no global fetch')
  const upstream: typeof fetch = givenFetch
  const cache = options.cache ?? defaultCache(now)
  if (typeof cache !== 'object' || cache === null || typeof cache.getOrSet !== 'function' || typeof cache.subscribe !== 'function') {
    throw new TypeError(`options.cache must be a cache from createCache(), got ${typeOf(cache)}`)
  }
  const policyOption = options.policy
  if (policyOption !== undefined && typeof policyOption !== 'function') cache.resolvePolicy(policyOption) // throws naming the rule
  const prefix = options.keyPrefix === undefined ? 'fetch:' : optionalString(options.keyPrefix, 'options.keyPrefix') ?? 'fetch:'
  const retain = optionalDuration(options.retain, 'options.retain') ?? 86_400_000
  const maxBodyBytes = optionalInteger(options.maxBodyBytes, 'options.maxBodyBytes', 1) ?? 5 * 1024 * 1024
  const cacheName = optionalString(options.cacheName, 'options.cacheName') ?? 'tiercache'
  const lockWait = optionalDuration(options.lockWait, 'options.lockWait') ?? 5_000
  const locks = lockWait > 0 ? webLocks() : undefined
  formatCacheStatus({ hit: true }, cacheName) // throws when it is not a token
  const { baseKey, variantKey } = fetchKeys(prefix, MAX_KEY - namespacePrefix(cache.namespace).length)
  const staticPolicy = policyOption === undefined || typeof policyOption === 'object' ? callPolicy(policyOption) : undefined

  /** One network exchange per key at a time; collapsed requests share its outcome. */
  const inflight = new Flights<string, Outcome>()

  // ---------------------------------------------------------------- reads

  /** The stored response under `key` and the tier that answered (core says it per call: concurrent reads each know). */
  async function read(key: string): Promise<{ stored: StoredResponse | undefined; tier: string | undefined }> {
    const status: ReadStatus = {}
    const value = await cache.get(key, { status })
    return { stored: isStoredResponse(value) ? value : undefined, tier: status.tierName }
  }

  /** The stored response for this request: under the URL's key, or under its Vary variant's (RFC 9111 §4.1). */
  async function find(url: string, headers: Headers): Promise<Found> {
    const key = baseKey(url)
    const base = await read(key)
    if (base.stored === undefined || base.stored.url !== url) return { key, stored: undefined, tier: undefined, gen: undefined, fwd: 'uri-miss' }
    if (answers(base.stored, url, headers)) return { key, ...base, gen: base.stored.gen, fwd: 'uri-miss' }
    const variant = variantKey(url, base.stored, headers)
    const found = await read(variant)
    // A variant stored under this key for other header values (a hash collision, or Vary changed) is replaced.
    const stored = found.stored !== undefined && answers(found.stored, url, headers) ? found.stored : undefined
    return { key: variant, stored, tier: found.tier, gen: base.stored.gen, fwd: 'vary-miss' }
  }

  /** Keeps a stored response for its windows and `retain` past its freshness (core drops it after that). */
  async function write(key: string, stored: StoredResponse, policy: RequestPolicy): Promise<void> {
    const ttl = keepUntil(stored, retain) - now()
    if (ttl <= 0) await cache.delete(key)
    else await cache.set(key, stored, { ...policy.call, ttl })
  }

  // ---------------------------------------------------------------- policies

  /** The set policy of stored responses: tags from the caller's, and nothing that would bend HTTP's lifetimes. */
  function callPolicy(policy: Policy | undefined): RequestPolicy {
    const resolved = policy === undefined ? undefined : cache.resolvePolicy(policy)
    const call: Partial<Policy> = { ttl: 0, swr: 0, staleIfError: 0, jitter: 0, earlyRefresh: false, timeout: 0, hardTimeout: 0 }
    if (policy?.tags !== undefined) call.tags = policy.tags
    const fallback = resolved === undefined ? NO_FALLBACK : { ttl: resolved.ttl, swr: resolved.swr, staleIfError: resolved.staleIfError, given: true }
    return { call, fallback }
  }

  function policyFor(request: Request): RequestPolicy | undefined {
    if (staticPolicy !== undefined) return staticPolicy
    const chosen = (policyOption as (request: Request) => Policy | undefined)(request)
    return chosen === undefined ? undefined : callPolicy(chosen)
  }

  // ---------------------------------------------------------------- the network

  /**
   * One request to the network for `found.key`, conditional when `stale` is given; stores what may be stored.
   * `forced`: the request itself asked for the origin (no-cache, reload, max-age, min-fresh): no stored response
   * stands in when the network fails.
   */
  async function exchange(found: Found, request: Request, url: string, policy: RequestPolicy, rules: RequestRules, stale: StoredResponse | undefined, fwd: CacheStatus['fwd'], forced: boolean): Promise<Outcome> {
    const { key } = found
    const requestTime = now()
    let response: Response
    try {
      response = await upstream(networkRequest(request, stale, rules, crossOrigin(url)))
    } catch (error) {
      // RFC 9111 §4.2.4: a cache cut off from the origin may answer stale, unless no-cache or must-revalidate forbid it.
      const fallback = found.stored
      if (forced || fallback === undefined || fallback.noCache === 1 || fallback.mustRevalidate === 1) throw error
      return { kind: 'stored', stored: fallback, status: { hit: false, fwd: 'stale', detail: 'stale-if-error' }, age: true }
    }
    const responseTime = now()
    const status = response.status

    if (status === 304 && stale !== undefined) {
      const stored = freshened(stale, response, requestTime, responseTime, policy.fallback)
      await write(key, stored, policy)
      return { kind: 'stored', stored, status: { hit: false, fwd, stored: true, detail: 'network' }, fwdStatus: 304, age: true }
    }
    const previous = found.stored
    if (!forced && previous !== undefined && STALE_IF_ERROR_STATUSES.has(status) && responseTime < previous.errorUntil) {
      // RFC 5861 §4 / RFC 9111 §4.3.3: a 500, 502, 503 or 504 may be answered with the stored response within stale-if-error.
      void response.body?.cancel().catch(() => undefined)
      return { kind: 'stored', stored: previous, status: { hit: false, fwd: 'stale', detail: 'stale-if-error' }, fwdStatus: status, age: true }
    }
    const keep = keepable(response, requestTime, responseTime, policy.fallback, maxBodyBytes)
    const pass = async (res: Response): Promise<Outcome> => {
      // A newer answer that may not be stored replaces the stored one; a failing origin (5xx) does not.
      if (status < 500 && status !== 304 && previous !== undefined) await cache.delete(key)
      return { kind: 'raw', response: res, status: { hit: false, fwd, detail: 'network' }, fwdStatus: status }
    }
    if (typeof keep === 'string') return pass(response)
    const bytes = new Uint8Array(await response.arrayBuffer())
    if (bytes.byteLength > maxBodyBytes) return pass(new Response(bytes, { status, statusText: response.statusText, headers: response.headers }))
    const gen = found.gen ?? newGen()
    const stored = storedResponse(url, request, response, bytes, keep, gen, requestTime, responseTime)
    await write(key, stored, policy)
    return { kind: 'stored', stored, status: { hit: false, fwd, stored: true, detail: 'network' }, fwdStatus: status, age: false }
  }

  /**
   * The exchange for a key, shared by the requests that arrive while it runs (unless the request forces its own),
   * and by the other tabs: one tab at a time holds the key's Web Lock for its exchange; a tab that waited for it
   * answers from what the holder stored when that is fresh for its request (`recheck`).
   */
  async function shared(found: Found, run: () => Promise<Outcome>, share: boolean, recheck: () => Promise<Outcome | undefined>): Promise<{ outcome: Outcome; joined: boolean }> {
    if (!share) return { outcome: await run(), joined: false }
    const joined = inflight.has(found.key)
    const outcome = await inflight.run(found.key, () => (locks === undefined ? run() : exclusive(locks, `tiercache:${namespacePrefix(cache.namespace)}${found.key}`, lockWait, run, recheck)))
    return { outcome, joined }
  }

  /** After waiting for another tab's exchange: the response it stored, when it answers this request fresh. */
  async function storedMeanwhile(request: Request, url: string, rules: RequestRules): Promise<Outcome | undefined> {
    const found = await find(url, request.headers)
    if (found.stored === undefined || judge(found.stored, rules, now()) !== 'fresh') return undefined
    return { kind: 'stored', stored: found.stored, status: { hit: true, collapsed: true, detail: found.tier }, age: true }
  }

  // ---------------------------------------------------------------- answering

  async function get(request: Request, url: string, policy: RequestPolicy, rules: RequestRules, attempt = 0): Promise<Response> {
    const found = await find(url, request.headers)
    const { stored } = found
    const verdict = stored === undefined ? undefined : judge(stored, rules, now())
    if (stored !== undefined && (verdict === 'fresh' || verdict === 'stale' || verdict === 'swr')) {
      if (verdict === 'swr') {
        // RFC 5861 §3: answer now, revalidate once in the background; nobody reads what it gets.
        // Tracked by the cache's background: its idle() and waitUntil (a service worker's event) cover it.
        const revalidation = shared(found, () => exchange(found, request, url, policy, rules, stored, 'stale', false), true, () => storedMeanwhile(request, url, rules))
        trackBackground(cache, revalidation.then(({ outcome, joined }) => (outcome.kind === 'raw' && !joined ? outcome.response.body?.cancel() : undefined)))
      }
      return render({ kind: 'stored', stored, status: { hit: true, detail: found.tier }, age: true })
    }
    if (rules.mode === 'only-if-cached') return onlyIfCached()
    const byRequest = rules.mode === 'no-cache' || rules.mode === 'reload' || (stored !== undefined && stored.freshUntil > now())
    const fwd: CacheStatus['fwd'] = byRequest ? 'request' : stored !== undefined ? 'stale' : found.fwd
    const stale = verdict === 'validate' ? stored : undefined
    const ran = await shared(found, () => exchange(found, request, url, policy, rules, stale, fwd, byRequest), !byRequest, () => storedMeanwhile(request, url, rules))
    const outcome = ran.joined ? joined(ran.outcome, request, url) : ran.outcome
    if (outcome.kind === 'again') {
      // Another request's answer was for other Vary values (now stored: look again) or not storable.
      return attempt === 0 ? get(request, url, policy, rules, 1) : withCacheStatus(await upstream(networkRequest(request, undefined, rules, crossOrigin(url))), member({ hit: false, fwd: found.fwd, detail: 'network' }, undefined))
    }
    return render(outcome)
  }

  function render(outcome: Exclude<Outcome, { kind: 'again' }>): Response {
    if (outcome.kind === 'raw') return withCacheStatus(outcome.response, member(outcome.status, undefined, outcome.fwdStatus))
    return toResponse(outcome.stored, { method: 'GET', now: now(), age: outcome.age, cacheStatus: member(outcome.status, outcome.stored, outcome.fwdStatus) })
  }

  /** RFC 9111 §5.2.1.7: nothing usable stored, and the network may not be asked. */
  function onlyIfCached(): Response {
    const headers = new Headers({ 'cache-status': member({ hit: false, fwd: 'miss', detail: 'only-if-cached' }, undefined) })
    return new Response(null, { status: 504, statusText: 'Gateway Timeout', headers })
  }

  /** HEAD is answered from a fresh stored GET response (RFC 9110 §9.3.2), else sent to the network as is. */
  async function head(request: Request, url: string, rules: RequestRules): Promise<Response> {
    const found = await find(url, request.headers)
    if (found.stored !== undefined && judge(found.stored, rules, now()) === 'fresh') {
      return toResponse(found.stored, { method: 'HEAD', now: now(), age: true, cacheStatus: member({ hit: true, detail: found.tier }, found.stored) })
    }
    return upstream(request)
  }

  /** A single byte range of a usable stored complete response, as a 206 (RFC 9110 §14); else the network's answer, unstored. */
  async function range(request: Request, url: string, rules: RequestRules, header: string): Promise<Response> {
    const found = await find(url, request.headers)
    const { stored } = found
    const verdict = stored === undefined ? undefined : judge(stored, rules, now())
    if (stored !== undefined && stored.status === 200 && (verdict === 'fresh' || verdict === 'stale')) {
      const bytes = decodeBody(stored)
      const part = singleByteRange(header, bytes.byteLength)
      if (part !== undefined) {
        const full = toResponse(stored, { method: 'GET', now: now(), age: true, cacheStatus: member({ hit: true, detail: found.tier }, stored) })
        return partialResponse(full, bytes, part)
      }
    }
    return upstream(request)
  }

  /** RFC 9111 §4.4: a non-error answer to an unsafe method invalidates the URL, and same-origin Location / Content-Location. */
  async function unsafe(input: RequestInfo | URL, init: RequestInit | undefined, method: string): Promise<Response> {
    const response = await upstream(input, init)
    const urls = invalidatedUrls(method, input, response, globalThis.location?.href)
    if (urls.length === 0) return response
    await Promise.allSettled(urls.map((u) => cache.delete(baseKey(u))))
    return response
  }

  /** The Cache-Status member (RFC 9211 §2); ttl is the stored response's remaining freshness, negative when stale. */
  function member(status: CacheStatus, stored: StoredResponse | undefined, fwdStatus?: number): string {
    const ttl = stored === undefined ? status.ttl : Math.floor((stored.freshUntil - now()) / 1000)
    return formatCacheStatus({ ...status, ttl, fwdStatus }, cacheName)
  }

  return async function cachedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
    if (method !== 'GET' && method !== 'HEAD') return unsafe(input, init, method)
    const request = new Request(input, init)
    const rules = requestRules(request)
    const policy =
      rules.mode === 'no-store' || CALLER_CONDITIONS.some((name) => request.headers.has(name)) ? undefined : policyFor(request)
    if (policy === undefined) return upstream(request)
    const url = request.url.replace(/#.*$/, '')
    const rangeHeader = request.headers.get('range')
    const work =
      method === 'HEAD' ? head(request, url, rules) : rangeHeader !== null ? range(request, url, rules, rangeHeader) : get(request, url, policy, rules)
    return abortable(work, request.signal)
  }
}

/** What a request that joined another's exchange gets: the stored response when it answers this request too. */
function joined(shared: Outcome, request: Request, url: string): Outcome {
  if (shared.kind !== 'stored' || !answers(shared.stored, url, request.headers)) return { kind: 'again' }
  return { kind: 'stored', stored: shared.stored, status: { ...shared.status, collapsed: true }, age: true, ...(shared.fwdStatus === undefined ? {} : { fwdStatus: shared.fwdStatus }) }
}

/** Whether the runtime sends this request with CORS (a page's cross-origin request); Node and Workers have no `location`. */
function crossOrigin(url: string): boolean {
  const here = globalThis.location?.origin
  return here !== undefined && here !== 'null' && new URL(url).origin !== here
}

function defaultCache(now: () => number): Cache {
  if (typeof indexedDB === 'undefined') return createCache({ tiers: [memoryStore()], now })
  // Tag invalidations must outlive the page as the IndexedDB entries do (made by another cache on these databases).
  const tiers: Store[] = [memoryStore(), indexedDbStore({ now })]
  return createCache({ tiers, coordinator: indexedDbCoordinator({ now }), now })
}
