import type { Entry } from './entry.js'
import type { CacheError } from './errors.js'

/** What happened, reported through `onEvent`. */
export type CacheEventType =
  /** A fresh value answered, from `tier`. */
  | 'hit'
  /** A stale value answered, from `tier`; `reason` says why it was allowed. */
  | 'stale'
  /** `tier` had nothing servable for the key. */
  | 'miss'
  /** The loader produced a value (`ms` = how long it took; `background` when it was a refresh). */
  | 'load'
  /** A tier, the loader or the coordinator failed; `error` says which and why. */
  | 'error'
  /** An entry found in a lower tier was copied into `tier`. */
  | 'fill'
  /** `tier` dropped an entry on its own (capacity, size, expiry). */
  | 'evict'
  /** A loaded or set value is being written to every tier; `entry` is what is written. */
  | 'write'
  /** The caller deleted `key`. */
  | 'delete'
  /** The caller invalidated `tags` (key is ''). */
  | 'invalidate'

export interface CacheEvent {
  type: CacheEventType
  /** The key as the caller gave it (without namespace); '' for 'invalidate'. */
  key: string
  /** Name of the store involved. */
  tier?: string
  /** Its position, 0 = L1. */
  tierIndex?: number
  /** Duration of the operation in ms (loader runs). */
  ms?: number
  /** For 'stale': served within the stale-while-revalidate window, after a loader error, or after the soft timeout. */
  reason?: 'swr' | 'error' | 'timeout' | 'capacity' | 'size' | 'expired'
  /** For 'load': whether it ran in the background (refresh) rather than for a waiting caller. */
  background?: boolean
  /** For 'load': the loader found nothing, a negative entry was cached. */
  negative?: boolean
  error?: CacheError
  /** For 'write': the entry written (its tags namespaced). */
  entry?: Entry
  /** For 'write': whether a loader or a set() produced it. */
  source?: 'load' | 'set'
  /** For 'invalidate': the tags, as the caller gave them. */
  tags?: readonly string[]
  /** Clock time of the event. */
  at: number
}

/** Counters of one tier. */
export interface TierStats {
  name: string
  /** Fresh answers from this tier. */
  hits: number
  /** Reads that found nothing servable here. */
  misses: number
  /** Stale answers from this tier. */
  staleHits: number
  /** Failures and timeouts of this tier. */
  errors: number
  /** Entries copied into this tier from a lower one. */
  fills: number
  evictions: number
  /** (hits + staleHits) / reads that reached this tier; 0 before any. */
  hitRate: number
}

/** Counters of a cache since it was created, shared by every withContext view. */
export interface CacheStats {
  /** Answers with a fresh value from some tier. */
  hits: number
  /** Answers with a stale value. */
  staleHits: number
  /** Requests no tier could answer. */
  misses: number
  /** Loader runs that succeeded (foreground and background). */
  loads: number
  /** Loader runs that failed. */
  loadErrors: number
  /** Background refreshes started (stale-while-revalidate and early refresh). */
  refreshes: number
  /** Calls that joined a load already in flight instead of starting one. */
  coalesced: number
  /** Times another process held the key's lock and this one waited for the shared tier. */
  lockWaits: number
  /** (hits + staleHits) / (hits + staleHits + misses); 0 before any. */
  hitRate: number
  tiers: TierStats[]
}

/** Mutable counters; `snapshot` turns them into CacheStats. */
export class Counters {
  readonly hits: number[]
  readonly misses: number[]
  readonly staleHits: number[]
  readonly errors: number[]
  readonly fills: number[]
  readonly evictions: number[]
  totalHits = 0
  totalStale = 0
  totalMisses = 0
  loads = 0
  loadErrors = 0
  refreshes = 0
  coalesced = 0
  lockWaits = 0

  constructor(readonly names: readonly string[]) {
    const zeros = (): number[] => names.map(() => 0)
    this.hits = zeros()
    this.misses = zeros()
    this.staleHits = zeros()
    this.errors = zeros()
    this.fills = zeros()
    this.evictions = zeros()
  }

  /** Adds `n` to a per-tier counter. */
  bump(counter: number[], tier: number, n = 1): void {
    counter[tier] = (counter[tier] as number) + n
  }

  snapshot(): CacheStats {
    const served = this.totalHits + this.totalStale
    return {
      hits: this.totalHits,
      staleHits: this.totalStale,
      misses: this.totalMisses,
      loads: this.loads,
      loadErrors: this.loadErrors,
      refreshes: this.refreshes,
      coalesced: this.coalesced,
      lockWaits: this.lockWaits,
      hitRate: rate(served, served + this.totalMisses),
      tiers: this.names.map((name, i) => {
        const tierServed = (this.hits[i] as number) + (this.staleHits[i] as number)
        return {
          name,
          hits: this.hits[i] as number,
          misses: this.misses[i] as number,
          staleHits: this.staleHits[i] as number,
          errors: this.errors[i] as number,
          fills: this.fills[i] as number,
          evictions: this.evictions[i] as number,
          hitRate: rate(tierServed, tierServed + (this.misses[i] as number)),
        }
      }),
    }
  }
}

function rate(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole
}
