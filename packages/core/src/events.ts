import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { Entry } from './entry.js'
import type { CacheError } from './errors.js'
import type { EvictionReason } from './store.js'

/** Every field some event carries; each event type declares which it has, the others are absent. */
interface EventFields {
  /** Name of the store involved. */
  tier: string
  /** Its position, 0 = L1. */
  tierIndex: number
  /** Duration of the loader run in ms. */
  ms: number
  /** Why a stale value was allowed, or why a store evicted. */
  reason: StaleReason | EvictionReason
  /** Whether the load ran in the background (a refresh) rather than for a waiting caller. */
  background: boolean
  /** The loader found nothing: a negative entry was cached. */
  negative: boolean
  error: CacheError
  /** The entry served or written (its tags namespaced). */
  entry: Entry
  /** Whether a loader or a set() produced what is written. */
  source: 'load' | 'set'
  /** The tags, as the caller gave them. */
  tags: readonly string[]
  /** Hard (gone) or soft (stale, revalidated) invalidation. */
  mode: 'hard' | 'soft'
  /** Why a stored value failed the policy's schema (the schema library's issues). */
  issues: readonly StandardSchemaV1.Issue[]
  /** Whether `migrate` turned the value into one that passes (served and written back) rather than dropped. */
  migrated: boolean
}

/** An event of type `T` with the fields in `Has` (those in `Maybe` optional); every other field is absent. */
type Event<T extends string, Has extends keyof EventFields, Maybe extends keyof EventFields = never> = {
  readonly type: T
  /** The key as the caller gave it (without namespace); '' when the event is about tags. */
  readonly key: string
  /** Clock time of the event (the cache's `now`). */
  readonly at: number
} & { readonly [K in Has]: EventFields[K] } & { readonly [K in Maybe]?: EventFields[K] | undefined } & {
  readonly [K in Exclude<keyof EventFields, Has | Maybe>]?: undefined
}

/** Why a stale value answered: within stale-while-revalidate, after a loader error, or after the soft timeout. */
export type StaleReason = 'swr' | 'error' | 'timeout'

/** A fresh value answered, from `tier`. */
export type HitEvent = Event<'hit', 'tier' | 'tierIndex' | 'entry'>
/** A stale value answered; `reason` says why it was allowed; `tier` is where it was found. */
export type StaleEvent = Event<'stale', 'entry' | 'reason', 'tier' | 'tierIndex'> & { readonly reason: StaleReason }
/** `tier` had nothing servable for the key. */
export type MissEvent = Event<'miss', 'tier' | 'tierIndex'>
/** The loader produced a value in `ms`. */
export type LoadEvent = Event<'load', 'ms' | 'background' | 'negative'>
/** A tier, the loader or the coordinator failed; `error.code` says which. Never thrown to the caller by itself. */
export type ErrorEvent = Event<'error', 'error', 'tier' | 'tierIndex' | 'ms' | 'background'>
/** An entry found in a lower tier was copied into `tier`. */
export type FillEvent = Event<'fill', 'tier' | 'tierIndex'>
/** `tier` dropped an entry on its own. */
export type EvictEvent = Event<'evict', 'tier' | 'tierIndex' | 'reason'> & { readonly reason: EvictionReason }
/** A loaded or set value is being written to every tier. */
export type WriteEvent = Event<'write', 'entry' | 'source'>
/** The caller deleted `key`. */
export type DeleteEvent = Event<'delete', never>
/** The caller made `key` stale in every tier (expire). */
export type ExpireEvent = Event<'expire', never>
/** The caller invalidated `tags` (key is ''). */
export type InvalidateEvent = Event<'invalidate', 'tags' | 'mode'>
/**
 * A value read from `tier` failed the policy's schema: dropped (deleted there, reloaded), or migrated (`migrated`,
 * served and written back); `issues` says why it failed.
 */
export type InvalidEvent = Event<'invalid', 'tier' | 'tierIndex' | 'migrated', 'issues'>
/**
 * An entry read from `tier` under an encryption key that is no longer the current one was written there again under
 * the current key, in the background (`encryption.reencrypt` of createCodec).
 */
export type ReencryptEvent = Event<'reencrypt', 'tier' | 'tierIndex'>

/**
 * What happened, reported through `onEvent` and `subscribe`. Narrowing on `type` gives the fields of that event;
 * fields another type carries read as undefined.
 *
 * @example
 * createCache({ tiers, onEvent: (e) => { if (e.type === 'error') log(e.error.code, e.tier, e.key) } })
 */
export type CacheEvent =
  | HitEvent
  | StaleEvent
  | MissEvent
  | LoadEvent
  | ErrorEvent
  | FillEvent
  | EvictEvent
  | WriteEvent
  | DeleteEvent
  | ExpireEvent
  | InvalidateEvent
  | InvalidEvent
  | ReencryptEvent

export type CacheEventType = CacheEvent['type']
