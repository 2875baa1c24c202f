import type { Entry } from './entry.js'
import type { Counters } from './stats.js'
import type { Store } from './store.js'
import type { FailureReporter, Tiers } from './tiered.js'

/**
 * Turns entries into what one tier keeps and back: the serializer, compression and encryption of
 * `createCodec()` (`@tiercache/core/codec`). Core only calls it at the tier boundary, for the tiers it applies to;
 * a cache without one pays nothing for it.
 */
export interface Codec extends TierCodecs {
  /**
   * The entry as `context.store` keeps it (its value encoded, `codec` recording how), and the bytes compression
   * saved. Rejects with a CacheError (`VALUE_TOO_LARGE`) when the entry must not
   * be written to that tier.
   */
  encode(entry: Entry, context: CodecContext): Promise<Encoded>
  /**
   * The entry as it was before encode. Rejects with a CacheError when this codec cannot give back the value that
   * was written: `CODEC_MISMATCH` (another serializer, or in the clear where encryption is required),
   * `DECRYPT_ERROR` (unknown key id, wrong key, altered bytes, another key's entry), `DECODE_ERROR`. The read is then
   * a miss, never a wrong value.
   */
  decode(entry: Entry, context: CodecContext): Promise<Entry>
  /**
   * Throws a TypeError naming `name` and the path of the first part of `value` that this codec's serializer
   * would not give back as it is. Used instead of the JSON check for every value the cache stores.
   */
  check(value: unknown, name: string): void
  /**
   * Background re-encryption after a key rotation (createCodec's `encryption.reencrypt`), absent when off: an entry
   * read under a key that is not the current one (`outdated`, given the entry as the tier holds it) is written to
   * that tier again, re-encoded under the current key, with at most `maxPending` such writes in flight per cache.
   */
  readonly reencrypt?: { outdated(stored: Entry): boolean; readonly maxPending: number }
}

/** Where an entry is encoded for. */
export interface CodecContext {
  /** The key in the store (namespaced): encryption binds it, so an entry copied under another key does not decrypt. */
  readonly key: string
  readonly store: Store
}

/** What Codec.encode produced. */
export interface Encoded {
  entry: Entry
  /** Bytes compression kept out of the store (0 without it). */
  saved: number
}

/** Throws a TypeError naming `name` when `value` cannot be stored. */
export type ValueCheck = (value: unknown, name: string) => void

/**
 * What `createCache({ codec })` takes: decides once, when the cache is built, which codec each tier's entries go
 * through, and the check every value stored must pass. A codec from `createCodec()` applies itself to every tier
 * that keeps values outside this process (stores without `getSync`); `perTier()` chooses per tier. Take one from
 * those two: their plan also builds the engine's tier layer (an internal member).
 */
export interface TierCodecs {
  /**
   * Per tier, its codec (undefined: entries kept as they are), the check for values (`json` is the JSON check
   * core uses without codecs), and the tier layer that runs them. In-process tiers (stores with `getSync`) get
   * no codec.
   */
  plan(stores: readonly Store[], json: ValueCheck): CodecPlan
}

export interface CodecPlan {
  /** Per tier, its codec; undefined leaves the tier's entries as they are. */
  readonly codecs: readonly (Codec | undefined)[]
  readonly check: ValueCheck
  /**
   * Builds the tier layer that runs the codecs (core calls it once, with its own counters and reporter). Internal:
   * left out of the published types, so that the engine's Tiers and Counters classes stay out of them. @internal
   */
  tiers(stores: readonly Store[], tierTimeout: number, counters: Counters, fail: FailureReporter, now: () => number): Tiers
}
