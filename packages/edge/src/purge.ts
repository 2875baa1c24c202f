// One invalidation for every layer at the edge: tiercache's tiers (through the cache and its coordinator) and
// Workers Cache in front of the Worker (ctx.cache.purge / invalidate), with the tags written as Cache-Tag wrote them.
import type { Cache } from '@tiercache/core'
import { cdnTags, type CacheTagOptions } from './cdn-headers.js'
import { typeOf } from '@tiercache/core/kit'
import { prefixTag, resolveTarget, urlTag, type InvalidationTarget } from './url-tags.js'
import type { ZonePurger, ZonePurgeReport } from './zone-purge.js'

/** What Workers Cache's purge and invalidate select (the runtime's `CachePurgeOptions`). */
export interface PurgeSelector {
  tags?: string[]
  pathPrefixes?: string[]
  purgeEverything?: boolean
}

/** What Workers Cache's purge and invalidate resolve to (the runtime's `CachePurgeResult`). */
export interface PurgeResultLike {
  success: boolean
  errors?: readonly { code: number; message: string }[]
}

/**
 * Workers Cache as the runtime exposes it on `ctx.cache` (and as `cache` from `cloudflare:workers`): `purge`
 * drops responses, `invalidate` (where the runtime has it) marks them stale so that the cache revalidates them
 * with the Worker (If-None-Match from the stored ETag, answered 304 when unchanged).
 */
export interface WorkersCacheLike {
  purge(selector: PurgeSelector): Promise<PurgeResultLike>
  invalidate?(selector: PurgeSelector): Promise<PurgeResultLike>
}

/** What one invalidation did to Workers Cache. */
export type WorkersCacheOutcome =
  /** Nothing to call: the runtime has no `ctx.cache` (local workerd, older runtimes), or it was turned off. */
  | { action: 'none'; reason: 'absent' | 'disabled' }
  /**
   * `purge` or `invalidate` ran for these tags (as written in Cache-Tag) and path prefixes (those given, and the
   * path and query of each URL given), in `calls` calls.
   */
  | { action: 'purge' | 'invalidate'; tags: string[]; pathPrefixes?: string[]; calls: number; ok: true }
  | { action: 'purge' | 'invalidate'; tags: string[]; pathPrefixes?: string[]; calls: number; ok: false; error: unknown }

/** What invalidateEverywhere did, layer by layer. */
export interface InvalidationReport {
  tags: readonly string[]
  /** The URLs given (without fragment), when any. */
  urls?: string[]
  /** The path prefixes given (percent-encoded as URLs are), when any. */
  pathPrefixes?: string[]
  mode: 'hard' | 'soft'
  workersCache: WorkersCacheOutcome
  /** The zone's CDN purge (only with `zone`): always a hard purge, the API has no soft form here; by tag and by URL. */
  zone?: ZonePurgeReport
}

/** Options of invalidateEverywhere and withWorkersCache. */
export interface EdgeInvalidationOptions {
  /**
   * The request's ExecutionContext: its `cache` (Workers Cache) is used when the runtime provides one (detected,
   * not assumed).
   */
  ctx?: unknown
  /**
   * Workers Cache to purge instead of `ctx.cache` (for instance `cache` from `cloudflare:workers` where no ctx is
   * at hand, or a test double), or `false` to leave Workers Cache alone.
   */
  workersCache?: WorkersCacheLike | false | undefined
  /** How tags are written, as given to the response cache that wrote Cache-Tag. */
  tagOptions?: CacheTagOptions | undefined
  /** Also purge the tags from the zone's CDN cache through Cloudflare's API (zonePurger). @default none */
  zone?: ZonePurger | undefined
  /** Most tags (or path prefixes) per purge call; more are sent in several calls. @default 30 */
  maxTagsPerCall?: number | undefined
  /**
   * Told about every Workers Cache call that failed (never thrown into the caller), and once per isolate that the
   * runtime has no Workers Cache to purge. @default console.warn for both
   */
  log?: ((message: string, detail?: unknown) => void) | undefined
}

/** Options of one invalidation. */
export interface InvalidateEverywhereOptions extends EdgeInvalidationOptions {
  /**
   * `'hard'`: gone everywhere, the next request loads. `'soft'`: stale everywhere: tiercache's tiers serve it within
   * swr / stale-if-error while one refresh runs, Workers Cache revalidates it with a conditional request (purged
   * instead where the runtime has no `invalidate`). @default 'hard'
   */
  mode?: 'hard' | 'soft'
}

let warnedAbsent = false

/** withWorkersCache views -> the cache they were made from, whose own invalidateTags reaches the tiers only. */
const fannedOut = new WeakMap<Cache, Cache>()

/**
 * Invalidates tags, URLs or path prefixes in every layer at the edge: tiercache's tiers and every isolate sharing
 * its coordinator first (awaited: afterwards this isolate never serves the old value, and a failure there is
 * thrown), then Workers Cache in front of the Worker through `ctx.cache.purge` (hard) or `ctx.cache.invalidate`
 * (soft) with the tags written the way Cache-Tag carried them and the path prefixes, then the zone's CDN when
 * `zone` is given. A Workers Cache or zone failure is reported in the result and logged, never thrown.
 *
 * `target` is an array of tags, or `{ tags?, urls?, pathPrefixes? }`. URLs and path prefixes reach tiercache's
 * tiers for responses cached with the `urlTags` option of withCache / tiercache() (they carry tags naming their URL
 * and path); without it, only Workers Cache and the zone get them.
 *
 * @example
 * app.post('/admin/price', async (c) => {
 *   await db.setPrice(...)
 *   await invalidateEverywhere(c.var.cache, ['prices'], { ctx: c.executionCtx, mode: 'soft' })
 *   await invalidateEverywhere(c.var.cache, { pathPrefixes: ['/api/products/'] }, { ctx: c.executionCtx })
 *   return c.body(null, 204)
 * })
 */
export async function invalidateEverywhere(
  cache: Cache,
  target: readonly string[] | InvalidationTarget,
  options: InvalidateEverywhereOptions = {},
): Promise<InvalidationReport> {
  if (typeof cache !== 'object' || cache === null || typeof cache.invalidateTags !== 'function') {
    throw new TypeError(`cache must be a Cache (createCache(...)), got ${typeOf(cache)}`)
  }
  if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, got ${typeOf(options)}`)
  const mode = options.mode ?? 'hard'
  if (mode !== 'hard' && mode !== 'soft') throw new RangeError(`options.mode must be 'hard' or 'soft', got ${JSON.stringify(mode)}`)
  const maxTagsPerCall = options.maxTagsPerCall ?? 30
  if (!Number.isInteger(maxTagsPerCall) || maxTagsPerCall < 1) {
    throw new RangeError(`options.maxTagsPerCall must be a positive integer, got ${String(maxTagsPerCall)}`)
  }
  // Bad tags, URLs and prefixes throw here, before any layer is touched.
  const { tags, urls, pathPrefixes } = resolveTarget(target)
  const written = cdnTags(tags, options.tagOptions)
  const hrefs = urls.map((url) => (url.hash === '' ? url.href : url.href.slice(0, url.href.length - url.hash.length)))
  // Workers Cache purges by prefix only: a URL is its path and query (reaching longer paths too: more, never less).
  const prefixes = [...new Set([...pathPrefixes, ...urls.map((url) => url.pathname + url.search)])]
  const log = options.log ?? defaultLog
  const layer = options.workersCache === false ? false : (options.workersCache ?? workersCacheOf(options.ctx))
  // A withWorkersCache view (c.var.cache in Hono) would fan out again: its tiers are the cache it was made from.
  const tiers = invalidateTiers(fannedOut.get(cache) ?? cache, [...tags, ...urls.map(urlTag), ...pathPrefixes.map(prefixTag)], mode)
  let workersCache: Promise<WorkersCacheOutcome>
  if (layer === false) workersCache = Promise.resolve({ action: 'none', reason: 'disabled' })
  else if (layer === undefined) {
    if (!warnedAbsent) {
      warnedAbsent = true
      log('tiercache: this runtime has no Workers Cache (ctx.cache): invalidations reach tiercache\'s tiers only (expected in local workerd and where Workers Cache is not enabled)')
    }
    workersCache = Promise.resolve({ action: 'none', reason: 'absent' })
  } else workersCache = callWorkersCache(layer, written, prefixes, mode, maxTagsPerCall, log)
  const zone = options.zone === undefined ? undefined : purgeZone(options.zone, written, hrefs, log)
  const [tiersDone, cdnDone, zoneDone] = await Promise.allSettled([tiers, workersCache, zone])
  if (tiersDone.status === 'rejected') throw tiersDone.reason
  // callWorkersCache and the zone's catch never reject.
  const report: InvalidationReport = { tags: [...tags], mode, workersCache: (cdnDone as PromiseFulfilledResult<WorkersCacheOutcome>).value }
  if (hrefs.length > 0) report.urls = hrefs
  if (pathPrefixes.length > 0) report.pathPrefixes = pathPrefixes
  const zoneReport = (zoneDone as PromiseFulfilledResult<ZonePurgeReport | undefined>).value
  if (zoneReport !== undefined) report.zone = zoneReport
  return report
}

/**
 * A view of the cache whose `invalidateTags(tags, { mode })` reaches Workers Cache too (see invalidateEverywhere):
 * give it to handlers that already call `cache.invalidateTags`. It is a view made by `cache.withContext` (core's
 * functions such as `warm(view, ...)` take it), its background work going to `ctx.waitUntil` when `ctx` has one;
 * every other method is the cache's own.
 *
 * @example
 * const view = withWorkersCache(cache, { ctx })
 * await view.invalidateTags(['product:1']) // tiers, every isolate, and Workers Cache in front of this Worker
 */
export function withWorkersCache(cache: Cache, options: EdgeInvalidationOptions = {}): Cache {
  if (typeof cache !== 'object' || cache === null || typeof cache.invalidateTags !== 'function' || typeof cache.withContext !== 'function') {
    throw new TypeError(`cache must be a Cache (createCache(...)), got ${typeOf(cache)}`)
  }
  const invalidateTags = async (tags: readonly string[], call?: { mode?: 'hard' | 'soft' }): Promise<void> => {
    await invalidateEverywhere(cache, tags, { ...options, ...(call?.mode === undefined ? {} : { mode: call.mode }) })
  }
  // A real view of the cache (not a Proxy): core's own functions that take a cache (warm()) recognise it. Its
  // background work goes to ctx.waitUntil when ctx has one, else to the cache's host.
  const waitUntil = waitUntilOf(options.ctx)
  const view = cache.withContext(waitUntil === undefined ? {} : { waitUntil })
  Object.defineProperty(view, 'invalidateTags', { value: invalidateTags, writable: true, configurable: true, enumerable: false })
  fannedOut.set(view, cache)
  return view
}

/** The waitUntil of an ExecutionContext, bound to it, when it has one. */
function waitUntilOf(ctx: unknown): ((promise: Promise<unknown>) => void) | undefined {
  const waitUntil = typeof ctx === 'object' && ctx !== null ? (ctx as { waitUntil?: unknown }).waitUntil : undefined
  return typeof waitUntil === 'function' ? (promise) => (waitUntil as (p: Promise<unknown>) => void).call(ctx, promise) : undefined
}

/** The runtime's Workers Cache on an ExecutionContext, when it has one. */
export function workersCacheOf(ctx: unknown): WorkersCacheLike | undefined {
  if (typeof ctx !== 'object' || ctx === null) return undefined
  let cache: unknown
  try {
    cache = (ctx as { cache?: unknown }).cache
  } catch {
    return undefined
  }
  if (typeof cache !== 'object' || cache === null || typeof (cache as WorkersCacheLike).purge !== 'function') return undefined
  return cache as WorkersCacheLike
}

/** Core's invalidation, soft where core takes a mode (a core without one invalidates hard: stricter, never looser). */
function invalidateTiers(cache: Cache, tags: readonly string[], mode: 'hard' | 'soft'): Promise<void> {
  if (mode === 'hard') return cache.invalidateTags(tags)
  const withMode = cache.invalidateTags as (tags: readonly string[], options: { mode: 'soft' }) => Promise<void>
  return withMode.call(cache, tags, { mode: 'soft' })
}

/** The zone's purge by tag and by URL (a zonePurger without purgeUrls gets the tags only); never rejects. */
async function purgeZone(zone: ZonePurger, tags: string[], urls: string[], log: (message: string, detail?: unknown) => void): Promise<ZonePurgeReport> {
  const report: ZonePurgeReport = { ok: true, requests: 0, failed: [] }
  const parts: [string[], ((items: readonly string[]) => Promise<ZonePurgeReport>) | undefined][] = [
    [tags, (items) => zone.purgeTags(items)],
    [urls, zone.purgeUrls === undefined ? undefined : (items) => zone.purgeUrls!(items)],
  ]
  for (const [items, purge] of parts) {
    if (items.length === 0 || purge === undefined) continue
    const done = await purge(items).catch((error: unknown): ZonePurgeReport => {
      log('tiercache: zone purge failed', error)
      return { ok: false, requests: 0, failed: items }
    })
    report.ok &&= done.ok
    report.requests += done.requests
    report.failed.push(...done.failed)
  }
  return report
}

async function callWorkersCache(
  target: WorkersCacheLike,
  tags: string[],
  pathPrefixes: string[],
  mode: 'hard' | 'soft',
  maxTagsPerCall: number,
  log: (message: string, detail?: unknown) => void,
): Promise<WorkersCacheOutcome> {
  // Soft needs invalidate(); a runtime without it gets a purge: the responses load again instead of revalidating.
  const action = mode === 'soft' && typeof target.invalidate === 'function' ? 'invalidate' : 'purge'
  const done = pathPrefixes.length === 0 ? {} : { pathPrefixes }
  const batches: PurgeSelector[] = []
  for (let i = 0; i < tags.length; i += maxTagsPerCall) batches.push({ tags: tags.slice(i, i + maxTagsPerCall) })
  for (let i = 0; i < pathPrefixes.length; i += maxTagsPerCall) batches.push({ pathPrefixes: pathPrefixes.slice(i, i + maxTagsPerCall) })
  if (batches.length === 0) return { action, tags, ...done, calls: 0, ok: true }
  const results = await Promise.allSettled(
    batches.map(async (batch) => {
      const result = action === 'invalidate' ? await target.invalidate!(batch) : await target.purge(batch)
      if (result?.success !== true) {
        const errors = result?.errors?.map((e) => `${e.code} ${e.message}`).join('; ') ?? 'no result'
        throw new Error(`Workers Cache ${action} failed: ${errors}`)
      }
    }),
  )
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed === undefined) return { action, tags, ...done, calls: batches.length, ok: true }
  const what = pathPrefixes.length === 0 ? `${tags.length} tag(s)` : `${tags.length} tag(s) and ${pathPrefixes.length} path prefix(es)`
  log(`tiercache: Workers Cache ${action} of ${what} failed; tiercache's tiers were invalidated`, failed.reason)
  return { action, tags, ...done, calls: batches.length, ok: false, error: failed.reason }
}

function defaultLog(message: string, detail?: unknown): void {
  if (detail === undefined) console.warn(message)
  else console.warn(message, detail)
}
