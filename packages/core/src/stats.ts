export type { CacheEvent, CacheEventType } from './events.js'

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
  /** Bytes compression kept out of this tier (a codec with `compression`); 0 without one. */
  bytesSaved: number
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
  readonly bytesSaved: number[]
  totalHits = 0
  totalStale = 0
  totalMisses = 0
  loads = 0
  loadErrors = 0
  refreshes = 0
  coalesced = 0
  lockWaits = 0
  /**
   * Fresh hits of tier 0 answered by the engine's fast path, not yet in `hits[0]` and `totalHits`: one increment per
   * hot hit instead of two; `snapshot` moves them over.
   */
  l1Hits = 0

  constructor(readonly names: readonly string[]) {
    const zeros = (): number[] => names.map(() => 0)
    this.hits = zeros()
    this.misses = zeros()
    this.staleHits = zeros()
    this.errors = zeros()
    this.fills = zeros()
    this.evictions = zeros()
    this.bytesSaved = zeros()
  }

  /** Adds `n` to a per-tier counter. */
  bump(counter: number[], tier: number, n = 1): void {
    counter[tier] = (counter[tier] as number) + n
  }

  snapshot(): CacheStats {
    if (this.l1Hits > 0) {
      this.bump(this.hits, 0, this.l1Hits)
      this.totalHits += this.l1Hits
      this.l1Hits = 0
    }
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
          bytesSaved: this.bytesSaved[i] as number,
          hitRate: rate(tierServed, tierServed + (this.misses[i] as number)),
        }
      }),
    }
  }
}

function rate(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole
}
