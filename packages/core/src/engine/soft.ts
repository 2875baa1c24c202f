import { typeOf } from '../duration.js'
import { EntryState, lastServable, type Entry } from '../entry.js'
import type { Tiers } from '../tiered.js'

/**
 * Soft invalidation keeps its own record per tag: the soft record of a namespaced tag `t` is the coordinator's
 * ordinary record of the tag `'%soft:' + t`, invalidated like any tag (a stamp, or a 0.1 invalidation time). No tag
 * can have that name (the namespace part of a stored tag holds a '%' only as '%25' or '%3A'), so every coordinator
 * can store soft records, and processes sharing one see each other's soft invalidations. Reading them is another
 * matter: core asks for a fresh entry's hard and soft records in one question, which must cost no extra request,
 * so only a coordinator declaring `softRecords` gets soft invalidations (memoryCoordinator; a remote one once it
 * reads the soft records with the hard ones); the others refuse them (see Engine.invalidateTags).
 * An entry a hard record kills is dead; one a soft record covers (same rule: invalidated after the entry's load
 * began) is stale: see softState.
 */
export const SOFT_TAG = '%soft:'

const records = new WeakMap<readonly string[], readonly string[]>()

/** The soft records of these namespaced tags. */
export function softTags(tags: readonly string[]): string[] {
  return tags.map((tag) => SOFT_TAG + tag)
}

/**
 * These namespaced tags followed by their soft records: one question to the coordinator answers both (the usual
 * answer, nothing invalidated since the entry's load, needs no other). Memoized per array: the entries of one
 * policy share theirs.
 */
export function withSoft(tags: readonly string[]): readonly string[] {
  let both = records.get(tags)
  if (both === undefined) {
    both = [...tags, ...softTags(tags)]
    records.set(tags, both)
  }
  return both
}

/**
 * What a fresh entry is after a soft invalidation covered it: stale, served within its stale-while-revalidate
 * window while one refresh runs, when it has one; else a fallback for a failed load within its stale-if-error
 * window; else dead. Its windows end when they would have anyway.
 */
export function softState(entry: Entry, now: number): EntryState {
  if (entry.staleUntil > entry.freshUntil && now < entry.staleUntil) return EntryState.Stale
  if (entry.errorUntil !== undefined && now < entry.errorUntil) return EntryState.ErrorStale
  return EntryState.Dead
}

/**
 * The entry as if its ttl ended at `now` (expire): every window moves earlier by the fresh time it had left, so it
 * is stale for its swr length from now, a fallback for its stale-if-error length. Undefined when it is not fresh
 * (nothing to change); the result may be servable no longer (then it is deleted instead).
 */
export function expiredAt(entry: Entry, now: number): Entry | undefined {
  const left = entry.freshUntil - now
  if (!(left > 0)) return undefined
  const expired: Entry = { ...entry, createdAt: Math.min(entry.createdAt, now), freshUntil: now, staleUntil: entry.staleUntil - left }
  if (entry.errorUntil !== undefined) expired.errorUntil = entry.errorUntil - left
  return expired
}

/**
 * Rewrites the key's entry in every tier as expired at `now` (expiredAt), deleting one left with no window to serve
 * in. Sync tiers are read and written at once; the others read, then write back.
 */
export function expireTiers(tiers: Tiers, full: string, key: string, now: number): Promise<unknown> {
  const writes: Promise<unknown>[] = []
  const expire = (i: number, entry: Entry | undefined): Promise<unknown> | undefined => {
    const expired = entry === undefined ? undefined : expiredAt(entry, now)
    if (expired === undefined) return undefined
    if (lastServable(expired) <= now) return tiers.delete(i, full, key)
    if (tiers.stores[i]?.setSync !== undefined) return void tiers.writeNow(i, full, key, expired)
    return tiers.write(i, full, key, expired)
  }
  for (let i = 0; i < tiers.length; i++) {
    if (tiers.stores[i]?.setSync !== undefined) {
      const done = expire(i, tiers.readNow(i, full, key))
      if (done !== undefined) writes.push(done)
    } else writes.push(tiers.read(i, full, key).then((entry) => expire(i, entry)))
  }
  return Promise.all(writes)
}

/** Options of invalidateTags. */
export interface InvalidateOptions {
  /**
   * 'hard': the entries are gone. 'soft': they turn stale, served within their stale-while-revalidate window while
   * one refresh runs (or kept as the fallback of a failed load within stale-if-error). @default 'hard'
   */
  mode?: 'hard' | 'soft'
}

/** The mode of invalidateTags' options, checked at the call. */
export function invalidateMode(options: InvalidateOptions | undefined): 'hard' | 'soft' {
  if (options === undefined) return 'hard'
  if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object like { mode: 'soft' }, got ${typeOf(options)}`)
  const { mode } = options
  if (mode === undefined || mode === 'hard' || mode === 'soft') return mode ?? 'hard'
  throw new TypeError(`options.mode must be 'hard' or 'soft', got ${typeof mode === 'string' ? JSON.stringify(mode) : typeOf(mode)}`)
}
