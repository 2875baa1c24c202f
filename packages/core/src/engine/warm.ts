import { internals, type Cache } from '../cache.js'
import { checkFunction, typeOf } from '../duration.js'
import { EntryState } from '../entry.js'
import type { Policy } from '../policy.js'
import { createAbortController, sleepUnlessAborted, type AbortSignalLike } from '../runtime.js'
import type { BatchLoader, BatchLoaderContext, Loader } from './loader.js'
import { newAnswer } from './loads.js'

/** Where warming stands, after each key (or batch). */
export interface WarmProgress {
  total: number
  /** Keys handled so far: loaded + fresh + skipped + failed. */
  done: number
  loaded: number
  /** Left alone: a tier already held them fresh. */
  fresh: number
  /** Not cached: the loader said `ctx.skip()`. */
  skipped: number
  failed: number
}

export interface WarmResult extends WarmProgress {
  /** The keys whose load failed, with the error. */
  errors: { key: string; error: unknown }[]
}

export interface WarmOptions {
  /** Loads running at once. @default 4 */
  concurrency?: number
  /** Loader calls started per second at most, evenly spaced, so the origin is not slammed. @default unlimited */
  ratePerSecond?: number
  /** The loader is a `loadMany(keys)`, given up to this many keys that no tier holds fresh per call. @default per key */
  batch?: number
  /** Policy of the warmed entries. @default the cache's */
  policy?: Partial<Policy>
  /** Called after each key (or batch) with the progress so far. Exceptions it throws are ignored. */
  onProgress?: (progress: WarmProgress) => void
  /** Stops starting loads once aborted; warm() then rejects with the signal's reason. */
  signal?: AbortSignalLike
}

/**
 * Loads `keys` into every tier progressively, skipping the keys a tier holds fresh: `concurrency` loads at a time,
 * at most `ratePerSecond` loader calls a second, `onProgress` after each key. `loader` is a per-key loader, or
 * with `options.batch` a `loadMany(keys)`. A failed key is counted and listed, not thrown; warming is not traffic
 * (no hits or misses counted, no hot keys). Its own module: an app that never warms does not bundle it.
 *
 * @example
 * const result = await warm(cache, saved, ({ key }) => db.product(key), {
 *   concurrency: 4,
 *   ratePerSecond: 50,
 *   onProgress: (p) => bar.update(p.done / p.total),
 * })
 */
export function warm(cache: Cache, keys: readonly string[], loader: Loader<unknown>, options?: WarmOptions & { batch?: undefined }): Promise<WarmResult>
export function warm(cache: Cache, keys: readonly string[], loadMany: BatchLoader<unknown>, options: WarmOptions & { batch: number }): Promise<WarmResult>
export async function warm(
  cache: Cache,
  keys: readonly string[],
  loader: Loader<unknown> | BatchLoader<unknown>,
  options: WarmOptions = {},
): Promise<WarmResult> {
  const view = typeof cache === 'object' && cache !== null ? internals(cache) : undefined
  if (view === undefined) throw new TypeError(`cache must be a cache made by createCache(), got ${typeOf(cache)}`)
  if (!Array.isArray(keys)) throw new TypeError(`keys must be an array of strings, got ${typeOf(keys)}`)
  checkFunction(loader, 'loader')
  if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object, got ${typeOf(options)}`)
  const { concurrency = 4, ratePerSecond, batch, signal, onProgress, policy } = options
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`options.concurrency must be a positive integer, got ${String(concurrency)}`)
  if (ratePerSecond !== undefined && !(typeof ratePerSecond === 'number' && ratePerSecond > 0 && Number.isFinite(ratePerSecond))) {
    throw new RangeError(`options.ratePerSecond must be a positive finite number, got ${String(ratePerSecond)}`)
  }
  if (batch !== undefined && (!Number.isInteger(batch) || batch < 1)) throw new RangeError(`options.batch must be a positive integer, got ${String(batch)}`)
  checkFunction(onProgress, 'options.onProgress', true)
  const { engine, waitUntil } = view
  const host = engine.host()
  // Every key and the policy are checked before anything loads.
  const fulls = keys.map((key, i) => host.keys.full(key, `keys[${i}]`))
  const p = host.policies.resolve(policy, 'options.policy')

  const result: WarmResult = { total: keys.length, done: 0, loaded: 0, fresh: 0, skipped: 0, failed: 0, errors: [] }
  const report = (): void => {
    try {
      const { total, done, loaded, fresh, skipped, failed } = result
      onProgress?.({ total, done, loaded, fresh, skipped, failed })
    } catch {
      // a progress bar's bug must not stop warming
    }
  }
  // Loader calls start at least this far apart (a steady pace rather than bursts); the wait happens before a load
  // is registered, so a reader of the same key never waits on the pace.
  const gap = ratePerSecond === undefined ? 0 : 1_000 / ratePerSecond
  let nextStart = -Infinity
  /** Waits for the next start; true when it waited. */
  const paced = async (): Promise<boolean> => {
    if (gap === 0) return false
    const now = host.now()
    const at = Math.max(now, nextStart)
    nextStart = at + gap
    if (at <= now) return false
    // An abort ends the wait at once: warm() rejects with its reason without waiting out a slow rate's turn.
    await sleepUnlessAborted(at - now, signal)
    return true
  }
  /** Those of the unit's indexes whose key no tier holds fresh (the tiers above a fresh one are filled). */
  const notFresh = async (unit: number[]): Promise<number[]> => {
    const found = await Promise.all(unit.map((i) => host.reads.find(keys[i] as string, fulls[i] as string, 0, waitUntil, false, p)))
    return unit.filter((_, n) => found[n]?.entry === undefined || found[n]?.state !== EntryState.Fresh)
  }
  const failed = (key: string, error: unknown): void => {
    result.failed++
    result.errors.push({ key, error })
  }

  const aborted = (): boolean => signal?.aborted === true
  const size = batch ?? 1
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < keys.length && !aborted()) {
      const unit: number[] = []
      for (const end = Math.min(next + size, keys.length); next < end; next++) unit.push(next)
      let missing = await notFresh(unit)
      // A reader may have loaded a key while it waited its turn.
      if (missing.length > 0 && (await paced())) missing = await notFresh(missing)
      if (aborted()) return
      if (batch === undefined) {
        const i = unit[0] as number
        const key = keys[i] as string
        if (missing.length > 0) {
          try {
            // No stale fallback: a failed load is reported as failed, not covered.
            const answer = newAnswer()
            await host.loads.foreground({ key, full: fulls[i] as string, loader: loader as Loader<unknown>, p, waitUntil }, undefined, -1, answer)
            result[answer.skipped ? 'skipped' : 'loaded']++
          } catch (error) {
            failed(key, error)
          }
        }
      } else if (missing.length > 0) {
        const batchKeys = missing.map((i) => keys[i] as string)
        try {
          let batchPolicy = policy
          const context: BatchLoaderContext = {
            signal: signal ?? createAbortController().signal,
            // Warming runs for its caller, as the single-key path's foreground load does.
            background: false,
            setPolicy(given) {
              batchPolicy = { ...batchPolicy, ...given }
            },
          }
          const values = await (loader as BatchLoader<unknown>)(batchKeys, context)
          if (!Array.isArray(values) || values.length !== batchKeys.length) {
            throw new TypeError(`loadMany must return an array aligned with its ${batchKeys.length} keys, got ${typeOf(values)}`)
          }
          await Promise.all(batchKeys.map((key, n) => engine.set(key, values[n], batchPolicy)))
          result.loaded += batchKeys.length
        } catch (error) {
          for (const key of batchKeys) failed(key, error)
        }
      }
      result.fresh += unit.length - missing.length
      result.done += unit.length
      report()
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.ceil(keys.length / size)) }, worker))
  if (aborted()) throw signal?.reason
  return result
}
