// How a response cache loads a key: the origin's answer judged (policy mode, or origin mode as an RFC 9111 shared
// cache, revalidating with the stored validators), then stored whole, as a learned-Vary variant, or passed through.
import type { Cache, Loader, LoaderContext, Policy, ResolvedPolicy } from '@tiercache/core'
import { originResponseVerdict, responseVerdict, sharedWithAuthorization, type PassReason, type ResponseRules } from './cacheability.js'
import { originVerdict } from './origin-freshness.js'
import { freshenedFields, hasValidator, validatorsOf } from './revalidate.js'
import { learnedNames, sameNames, variantKey, type VaryMarker } from './learned-vary.js'
import { withEtag } from './etag.js'
import { fillRequest } from './request-key.js'
import { bodyOf, isStoredResponse, storedResponse, type StoredResponse } from './stored-response.js'
import type { Origin } from './response-options.js'

/** What a request for an uncacheable answer stores: nothing (the entry dies at once), and why. */
export interface PassMarker {
  pass: PassReason
}

/** The origin failed (5xx): thrown from the loader so that core's stale-if-error applies. */
export class OriginError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly bytes: Uint8Array,
  ) {
    super(`origin answered ${status}`)
    this.name = 'OriginError'
  }
}

/**
 * What one request's own loader did. Core shares a read or load of a key between the requests that ask for it
 * meanwhile (following the Workers rule, flight.ts in core); an answer only the request that fetched it may see
 * never reaches the others: its loader says ctx.skip() (each of them then loads on its own), or, when the answer
 * must also drop a stale entry, it stores a dead marker the others recognise as not theirs.
 */
export interface Local {
  /** This request's loader ran in the foreground: an error it threw, or its pass, is this request's. */
  ran: boolean
  /** The origin response of a pass, kept for the request that fetched it. */
  passed: Response | undefined
  /** Origin mode: this request's load freshened a stored response with the origin's 304. */
  revalidated: boolean
  /** This request's load stored a variant (learned Vary): the response this request is answered with. */
  variant: StoredResponse | undefined
}

/** What one loader loads: the key (the URL's, or a variant's when `names` is set), for which request, with what policy. */
export interface LoadTarget {
  view: Cache
  request: Request
  /** The policy of the getOrSet call (tags included, URL tags too with urlTags). */
  callPolicy: Policy
  /** The route's policy as chosen (undefined in origin mode): what the outward headers of a pass-through say. */
  policy: Policy | undefined
  /** The URL's key (requestKey). */
  primary: string
  /** A variant load: the request fields the variant key was built from. */
  names: string[] | undefined
}

/** Statuses whose responses have no body. */
const NULL_BODY = new Set([204, 205, 304])

const PASS_POLICY: Partial<Policy> = { ttl: 0, swr: 0, staleIfError: 0, jitter: 0, earlyRefresh: false, timeout: 0 }

/** The loaders of one ResponseCache: what its getOrSet calls run to fetch, judge and store the origin's answer. */
export class ResponseLoader<Env> {
  readonly #now: () => number
  readonly #rules: ResponseRules
  readonly #originRules: ResponseRules
  readonly #negativeTtl: number | undefined
  readonly #surrogate: string | undefined
  readonly #allowAuthorization: boolean | undefined
  readonly #keyPrefix: string
  readonly #keepForRevalidation: number

  /** The resolved options it needs, checked by the ResponseCache it loads for. */
  constructor(
    now: () => number,
    rules: ResponseRules,
    negativeTtl: number | undefined,
    surrogate: string | undefined,
    allowAuthorization: boolean | undefined,
    keyPrefix: string,
    keepForRevalidation: number,
  ) {
    this.#now = now
    this.#rules = rules
    this.#originRules = { ...rules, surrogate }
    this.#negativeTtl = negativeTtl
    this.#surrogate = surrogate
    this.#allowAuthorization = allowAuthorization
    this.#keyPrefix = keyPrefix
    this.#keepForRevalidation = keepForRevalidation
  }

  /** This request's loader of `request`: the origin's answer as a StoredResponse, a pass, or an OriginError. */
  loader(target: LoadTarget, origin: Origin<Env>, local: Local, originMode: boolean): Loader<unknown> {
    const { view, request, callPolicy: policy } = target
    const resolved = view.resolvePolicy(policy)
    const negativeTtl = this.#negativeTtl ?? (resolved.negativeExplicit ? resolved.negativeTtl : undefined)
    const rules: ResponseRules = negativeTtl === undefined ? this.#rules : { ...this.#rules, negative: true }
    return async (context) => {
      const t = this.#now()
      // A refresh after the client was answered (stale-while-revalidate, early refresh): nobody waits on it.
      const { background } = context
      if (!background) local.ran = true
      if (originMode) return this.#loadOrigin(context, target, origin, t, local)
      const response = await origin.fetch(fillRequest(request), background)
      const verdict = responseVerdict(response, rules)
      if (verdict.kind === 'pass') return this.#pass(context, response, verdict.reason, local)
      const bytes = new Uint8Array(await response.arrayBuffer())
      if (verdict.kind === 'error') throw new OriginError(response.status, response.headers, bytes)
      if (bytes.byteLength > rules.maxBodySize) return this.#pass(context, new Response(bytes, response), 'too-large', local)
      const negative = verdict.kind === 'negative'
      const windows = windowsFor(negative ? negativeTtl : undefined, resolved)
      const stored = storedResponse(response, bytes, t, windows)
      // A validator for every stored 200: clients and Workers Cache revalidate with it and get 304s (RFC 9110 §13).
      stored.h = await withEtag(stored.h, stored.s, bytes)
      // Core applies the policy's jitter to the entry (it only shortens); the headers say the policy's windows.
      const entry: Partial<Policy> = { ttl: windows[0], swr: windows[1], staleIfError: windows[2], ...(negative ? { jitter: 0, earlyRefresh: false, timeout: 0 } : {}) }
      return this.#keep(context, stored, entry, target, local)
    }
  }

  /**
   * Origin mode's load: the response's own freshness decides whether and how long it is stored. A stored response
   * kept past its windows (it has a validator) is revalidated: the origin gets its If-None-Match / If-Modified-Since,
   * and a 304 freshens it (RFC 9111 §4.3). It answers a failure only within the origin's own stale-if-error.
   */
  async #loadOrigin(context: LoaderContext<unknown>, target: LoadTarget, origin: Origin<Env>, t: number, local: Local): Promise<unknown> {
    const { request } = target
    const value = context.staleValue
    const stale = isStoredResponse(value) && value.a !== undefined ? value : undefined
    const mayServeStale = stale !== undefined && this.#now() < stale.t + stale.w[0] + Math.max(stale.w[1], stale.w[2])
    let response: Response
    const fill = fillRequest(request, stale === undefined ? [] : validatorsOf(stale))
    // Tells the origin this cache reads Surrogate-Control, and under which name (Edge Architecture Specification 1.0).
    if (this.#surrogate !== undefined) fill.headers.append('surrogate-capability', `${this.#surrogate}="Surrogate/1.0"`)
    try {
      response = await origin.fetch(fill, context.background)
    } catch (error) {
      // Kept only to be revalidated: a failure past the origin's stale-if-error is the caller's.
      if (stale !== undefined && !mayServeStale) context.fail(error)
      throw error
    }
    if (stale !== undefined && response.status === 304) return this.#freshen(context, target, stale, response, t, local)
    const failed = response.status >= 500 && response.status <= 599
    if (failed && mayServeStale) throw new OriginError(response.status, response.headers, new Uint8Array(await response.arrayBuffer()))
    let verdict = originResponseVerdict(response, this.#originRules, t, this.#now())
    if (verdict.kind === 'store' && this.#allowAuthorization === undefined && request.headers.has('authorization') && !sharedWithAuthorization(response.headers)) {
      verdict = { kind: 'pass', reason: 'authorization' }
    }
    if (verdict.kind === 'pass' && failed) {
      // A failure that may not be stored: the origin's answer for this request; a kept response stays for later.
      const error = new OriginError(response.status, response.headers, new Uint8Array(await response.arrayBuffer()))
      if (stale !== undefined) context.fail(error)
      throw error
    }
    if (verdict.kind === 'pass') return this.#pass(context, response, verdict.reason, local)
    const bytes = new Uint8Array(await response.arrayBuffer())
    if (bytes.byteLength > this.#rules.maxBodySize) return this.#pass(context, new Response(bytes, response), 'too-large', local)
    const stored = storedResponse(response, bytes, t, verdict.windows, verdict.ageAtRequest)
    return this.#keep(context, stored, this.#originPolicy(verdict.windows, hasValidator(response.headers)), target, local)
  }

  /** A stale stored response freshened by the origin's 304: its fields updated, its windows from the merged fields. */
  async #freshen(context: LoaderContext<unknown>, target: LoadTarget, stale: StoredResponse, response: Response, t: number, local: Local): Promise<unknown> {
    await response.body?.cancel()
    const fields = freshenedFields(stale, response.headers)
    const headers = new Headers(fields)
    const age = response.headers.get('age')
    if (age !== null) headers.set('age', age)
    const verdict = originVerdict(headers, stale.s, t, this.#now(), this.#surrogate)
    if (verdict.kind === 'pass') {
      const body = NULL_BODY.has(stale.s) ? null : bodyOf(stale)
      return this.#pass(context, new Response(body, { status: stale.s, headers: fields }), verdict.reason, local)
    }
    local.revalidated = true
    const stored: StoredResponse = { ...stale, h: fields, t, w: verdict.windows, a: verdict.ageAtRequest }
    return this.#keep(context, stored, this.#originPolicy(verdict.windows, hasValidator(headers)), target, local)
  }

  /**
   * The entry's windows in origin mode: the origin's, and a response with a validator is kept keepForRevalidation
   * longer (as a stale-if-error fallback core hands to the next load, which revalidates it: see #loadOrigin).
   */
  #originPolicy(windows: [number, number, number], revalidatable: boolean): Partial<Policy> {
    const [ttl, swr, staleIfError] = windows
    const kept = revalidatable ? Math.max(staleIfError, swr + this.#keepForRevalidation) : staleIfError
    return { ttl, swr, staleIfError: kept, jitter: 0, earlyRefresh: false, timeout: 0 }
  }

  /**
   * Stores a response with the entry policy `entry`: under the key loaded, when its Vary names no request field
   * beyond the key's (or the same ones the variant key was built from). Otherwise (learned Vary) the response goes
   * under its variant key, the URL's key gets a marker naming the fields, and this request renders the response.
   */
  async #keep(context: LoaderContext<unknown>, stored: StoredResponse, entry: Partial<Policy>, target: LoadTarget, local: Local): Promise<unknown> {
    context.setPolicy(entry)
    const names = learnedNames(stored.h, this.#rules.vary)
    if (target.names === undefined ? names.length === 0 : sameNames(names, target.names)) return stored
    const { view, primary } = target
    const full: Policy = { ...target.callPolicy, ...entry }
    // The resource no longer varies (a variant load): the URL's key holds it again.
    await view.set(names.length === 0 ? primary : await variantKey(primary, names, target.request, this.#keyPrefix), stored, full)
    if (!context.background) local.variant = stored
    const marker: VaryMarker = { vary: names }
    // The marker stays fresh as long as the variant may be used (revalidation included): a stale variant is then
    // found and revalidated under its own key; a changed Vary is learned by the variant load that meets it.
    const resolved = view.resolvePolicy(full)
    const markerPolicy: Policy = { ...full, ttl: resolved.ttl + Math.max(resolved.swr, resolved.staleIfError), swr: 0, staleIfError: 0 }
    if (target.names === undefined) {
      context.setPolicy(markerPolicy)
      return marker
    }
    // A variant load whose Vary changed: the URL's key gets the new marker, and this variant key's entry is dropped.
    if (names.length > 0) await view.set(primary, marker, markerPolicy)
    context.setPolicy(PASS_POLICY)
    return marker
  }
  /**
   * An uncacheable answer. A foreground load without a stale entry says ctx.skip(): nothing is stored and the
   * requests that joined it load on their own. A refresh, or a load replacing a stale entry, stores an entry dead at
   * once instead, so that the tiers drop what they held for the key.
   */
  async #pass(context: LoaderContext<unknown>, response: Response, reason: PassReason, local: Local): Promise<PassMarker> {
    if (context.background) await response.body?.cancel()
    else local.passed = response
    if (context.background || context.staleValue !== undefined) context.setPolicy(PASS_POLICY)
    else context.skip()
    return { pass: reason }
  }
}

/** Fresh, swr and stale-if-error windows in ms for a stored response: negative ones live negativeTtl only. */
function windowsFor(negativeTtl: number | undefined, resolved: ResolvedPolicy): [number, number, number] {
  return negativeTtl === undefined ? [resolved.ttl, resolved.swr, resolved.staleIfError] : [negativeTtl, 0, 0]
}
