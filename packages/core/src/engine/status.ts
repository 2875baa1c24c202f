import type { Entry } from '../entry.js'
import { copyEntry, type Tiers } from '../tiered.js'

/**
 * How an answer came about:
 * - `fresh`: a fresh entry of `tier`
 * - `stale`: a stale entry within stale-while-revalidate (a refresh runs)
 * - `stale-if-error`: a stale entry because the load failed
 * - `stale-on-timeout`: a stale entry because the load ran past the soft timeout (it goes on in the background)
 * - `negative`: a cached "not found" of `tier`
 * - `loaded`: the loader's answer (of this call, or of the load it joined)
 * - `miss`: nothing (get only)
 */
export type AnswerState = 'fresh' | 'stale' | 'stale-if-error' | 'stale-on-timeout' | 'negative' | 'loaded' | 'miss'

/**
 * What a read tells its caller about the answer, lru-cache style: pass an object as `options.status` and the read
 * fills it in before it resolves. Nothing is computed when no status is asked for.
 *
 * @example
 * const status: ReadStatus = {}
 * const user = await cache.getOrSet(`user:${id}`, loadUser, undefined, { status })
 * status.state // 'fresh' | 'stale' | 'loaded' | ...; status.tierName // 'memory'
 */
export interface ReadStatus {
  state?: AnswerState
  /** The tier that answered (0 = L1); -1 when the loader answered or nothing did. */
  tier?: number
  /** The name of that tier. */
  tierName?: string | undefined
  /** The entry answered, a copy of the caller's own: its times (createdAt, freshUntil, staleUntil, errorUntil), tags, negative. */
  entry?: Entry | undefined
  /** The call joined a read or a load another call had started. */
  collapsed?: boolean
  /** A background refresh of the key runs (started by this call or already running). */
  refreshing?: boolean
  /** For `loaded`: whether the answer was written to the tiers (false after ctx.skip(), or when a delete or newer write claimed the key). */
  stored?: boolean
}

/** Per-call options of getOrSet. */
export interface GetOrSetOptions {
  /** Filled in with how the value was answered. */
  status?: ReadStatus
  /** Skip every tier and run the loader now (joining nothing); its answer is written as usual. @default false */
  forceFresh?: boolean
}

/**
 * Per-call options of getManyOrSet.
 *
 * @example
 * const errors: unknown[] = []
 * const users = await cache.getManyOrSet(ids, loadUsers, undefined, { errors })
 * users.forEach((user, i) => (user === undefined ? console.warn(ids[i], errors[i]) : show(user)))
 */
export interface GetManyOrSetOptions {
  /**
   * Per-key failures instead of all-or-nothing: given an array, a key whose load failed with no stale copy to
   * answer resolves to `undefined` and its error is put at the key's index here (the array is emptied first); the
   * other keys get their values. Without it, such a key fails the whole call with its error.
   */
  errors?: unknown[]
}

/** Per-call options of get. */
export interface GetOptions {
  /** Filled in with how the value was answered ('miss' when nothing was). */
  status?: ReadStatus
}

/** How one read was answered, kept by the shared read and the load so that joiners can tell their callers. */
export interface Answer {
  state: AnswerState
  tier: number
  refreshing: boolean
  stored: boolean
  /** The answer came from a loader that said ctx.skip(): it is not for joiners. */
  skipped: boolean
}

/**
 * Fills a caller's status with the answer of tier `tier` of `tiers` (-1: none; `entry` is copied: the caller may keep
 * and change it); the flags not given are false.
 */
export function report(
  status: ReadStatus,
  state: AnswerState,
  tier: number,
  tiers: Tiers,
  entry: Entry | undefined,
  collapsed = false,
  refreshing = false,
  stored = false,
): void {
  status.state = state
  status.tier = tier
  status.tierName = tiers.stores[tier]?.name
  status.entry = entry === undefined ? undefined : copyEntry(entry)
  status.collapsed = collapsed
  status.refreshing = refreshing
  status.stored = stored
}

/** The state of a servable entry found in a tier. */
export function foundState(entry: Entry, fresh: boolean): AnswerState {
  return !fresh ? 'stale' : entry.negative === true ? 'negative' : 'fresh'
}
