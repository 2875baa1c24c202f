/**
 * What a request allows the cache to answer with (RFC 9111 §5.2.1 request directives, Fetch cache modes), and the
 * one rule that judges a stored response against it.
 */
import { parseCacheControl } from '@tiercache/core/http'
import type { StoredResponse } from './stored-response.js'

/** The caller's wishes: from `request.cache` and the request's Cache-Control and Pragma. Times in ms. */
export interface RequestRules {
  /** Fetch cache mode, 'no-cache' also for request `no-cache` / `Pragma: no-cache`, and only-if-cached for the directive. */
  mode: 'default' | 'no-store' | 'reload' | 'no-cache' | 'force-cache' | 'only-if-cached'
  /** Request max-age (§5.2.1.1): no stored response older than this. */
  maxAge?: number
  /** Request max-stale (§5.2.1.2): a stale response up to this far past its freshness (Infinity: any). */
  maxStale?: number
  /** Request min-fresh (§5.2.1.3): fresh for at least this long still. */
  minFresh?: number
}

/**
 * The rules of a request.
 *
 * @example
 * requestRules(new Request('https://a.test/', { headers: { 'cache-control': 'max-stale=60' } })) // { mode: 'default', maxStale: 60000 }
 */
export function requestRules(request: Request): RequestRules {
  const d = parseCacheControl(request.headers.get('cache-control'))
  const rules: RequestRules = { mode: 'default' }
  const cacheMode = request.cache
  if (cacheMode === 'no-store' || d.noStore) rules.mode = 'no-store'
  else if (cacheMode === 'reload') rules.mode = 'reload'
  // Pragma: no-cache counts only without Cache-Control (RFC 9111 §5.4).
  else if (cacheMode === 'no-cache' || d.noCache || (!request.headers.has('cache-control') && /(^|,)\s*no-cache\s*(,|$)/i.test(request.headers.get('pragma') ?? ''))) {
    rules.mode = 'no-cache'
  } else if (cacheMode === 'only-if-cached' || d.onlyIfCached) rules.mode = 'only-if-cached'
  else if (cacheMode === 'force-cache') rules.mode = 'force-cache'
  if (d.maxAge !== undefined) rules.maxAge = Number.isNaN(d.maxAge) ? 0 : d.maxAge * 1000
  if (d.maxStale !== undefined) rules.maxStale = d.maxStale * 1000
  if (d.minFresh !== undefined) rules.minFresh = d.minFresh * 1000
  return rules
}

/**
 * How a stored response may answer a request now:
 * - `fresh`: as it is (fresh, and within the request's max-age and min-fresh);
 * - `stale`: as it is although stale, because the request allows it (max-stale, force-cache, only-if-cached);
 * - `swr`: at once, revalidated in the background (RFC 5861 §3);
 * - `validate`: only after a conditional request (§4.3.1);
 * - `reload`: not at all (cache mode reload).
 */
export type Verdict = 'fresh' | 'stale' | 'swr' | 'validate' | 'reload'

export function judge(stored: StoredResponse, rules: RequestRules, now: number): Verdict {
  if (rules.mode === 'reload' || rules.mode === 'no-store') return 'reload'
  if (rules.mode === 'no-cache' || stored.noCache === 1) return 'validate'
  const age = stored.initialAge + Math.max(0, now - stored.responseTime)
  // max-age=0 asks for a revalidation whatever the age (as browsers send it on reload).
  const tooOld = rules.maxAge !== undefined && (rules.maxAge === 0 || age > rules.maxAge)
  // Fetch's force-cache and only-if-cached use any stored response, fresh or not.
  if (!tooOld && (rules.mode === 'force-cache' || rules.mode === 'only-if-cached')) return stored.freshUntil > now ? 'fresh' : 'stale'
  if (!tooOld && stored.freshUntil - now > (rules.minFresh ?? 0)) return 'fresh'
  // must-revalidate forbids any stale use (§5.2.2.2), max-stale included.
  const staleFor = now - stored.freshUntil
  if (!tooOld && stored.mustRevalidate !== 1 && rules.maxStale !== undefined && staleFor >= 0 && staleFor <= rules.maxStale) return 'stale'
  if (!tooOld && rules.minFresh === undefined && now < stored.staleUntil) return 'swr'
  return 'validate'
}
