import type { Codec, CodecPlan, Encoded, ValueCheck } from '../codec.js'
import type { Entry } from '../entry.js'
import { CacheError } from '../errors.js'
import type { Counters } from '../stats.js'
import type { ReadIntent, Store } from '../store.js'
import { Tiers, type FailureReporter, type LateRead } from '../tiered.js'

/**
 * The tier layer of a cache with codecs: entries are encoded on their way into a tier that has one and decoded on
 * their way out, and a codec's refusal (too large to write; cannot give back the written value) is a skipped
 * write or a miss plus an error event with the codec's code, like any failure at the tier boundary.
 */
export class CodecTiers extends Tiers {
  readonly #codecs: readonly (Codec | undefined)[]
  readonly #counters: Counters
  readonly #fail: FailureReporter
  /** Entries (as reads returned them) that were stored under an encryption key that is no longer current. */
  readonly #outdated = new WeakSet<Entry>()
  /** Re-encryptions in flight, by tier and key. */
  readonly #rewriting = new Set<string>()

  constructor(
    stores: readonly Store[],
    tierTimeout: number,
    counters: Counters,
    fail: FailureReporter,
    now: () => number,
    codecs: readonly (Codec | undefined)[],
  ) {
    super(stores, tierTimeout, counters, fail, now)
    this.#codecs = codecs
    this.#counters = counters
    this.#fail = fail
  }

  protected override decodes(i: number): boolean {
    return this.#codecs[i] !== undefined
  }

  override async read(i: number, full: string, key: string, intent?: ReadIntent, late?: LateRead): Promise<Entry | undefined> {
    const entry = await super.read(i, full, key, intent, late)
    return entry === undefined || this.#codecs[i] === undefined ? entry : this.#decode(i, full, key, entry)
  }

  override async adopt(i: number, full: string, key: string, entry: Entry): Promise<Entry | undefined> {
    const checked = await super.adopt(i, full, key, entry)
    return checked === undefined || checked.codec === undefined || this.#codecs[i] === undefined ? checked : this.#decode(i, full, key, checked)
  }

  override async readMany(i: number, fulls: readonly string[], keys: readonly string[]): Promise<(Entry | undefined)[]> {
    const entries = await super.readMany(i, fulls, keys)
    if (this.#codecs[i] === undefined) return entries
    return Promise.all(entries.map((entry, n) => (entry === undefined ? entry : this.#decode(i, fulls[n] as string, keys[n] as string, entry))))
  }

  override async write(i: number, full: string, key: string, entry: Entry): Promise<boolean> {
    if (this.#codecs[i] === undefined) return super.write(i, full, key, entry)
    const encoded = await this.#encode(i, full, key, entry)
    return encoded === undefined ? false : super.write(i, full, key, encoded)
  }

  override async writeMany(i: number, items: readonly (readonly [full: string, key: string, entry: Entry])[]): Promise<boolean> {
    if (this.#codecs[i] === undefined) return super.writeMany(i, items)
    const encoded = await Promise.all(items.map(([full, key, entry]) => this.#encode(i, full, key, entry)))
    // What the codec refused (too large) is left out; the rest is written in one round trip.
    const kept = items.flatMap(([full, key], n) => (encoded[n] === undefined ? [] : [[full, key, encoded[n] as Entry] as const]))
    return kept.length === 0 ? false : super.writeMany(i, kept)
  }

  override rewrite(i: number, full: string, key: string, entry: Entry, stale: () => boolean): Promise<boolean> | undefined {
    if (!this.#outdated.has(entry)) return undefined
    this.#outdated.delete(entry)
    const id = `${i}\n${full}`
    const limit = this.#codecs[i]?.reencrypt?.maxPending ?? 0
    if (this.#rewriting.has(id) || this.#rewriting.size >= limit) return undefined
    this.#rewriting.add(id)
    return (async () => {
      try {
        const encoded = await this.#encode(i, full, key, entry)
        return encoded !== undefined && !stale() && (await super.write(i, full, key, encoded))
      } finally {
        this.#rewriting.delete(id)
      }
    })()
  }

  async #encode(i: number, full: string, key: string, entry: Entry): Promise<Entry | undefined> {
    let encoded: Encoded
    try {
      encoded = await (this.#codecs[i] as Codec).encode(entry, { key: full, store: this.stores[i] as Store })
    } catch (error) {
      this.#report(i, error, key, 'encode')
      return undefined
    }
    if (encoded.saved > 0) this.#counters.bump(this.#counters.bytesSaved, i, encoded.saved)
    return encoded.entry
  }

  async #decode(i: number, full: string, key: string, entry: Entry): Promise<Entry | undefined> {
    const codec = this.#codecs[i] as Codec
    try {
      const decoded = await codec.decode(entry, { key: full, store: this.stores[i] as Store })
      if (codec.reencrypt?.outdated(entry) === true) this.#outdated.add(decoded)
      return decoded
    } catch (error) {
      this.#report(i, error, key, 'decode')
      return undefined
    }
  }

  #report(i: number, error: unknown, key: string, operation: string): void {
    const tier = (this.stores[i] as Store).name
    const reported =
      error instanceof CacheError
        ? new CacheError(error.code, `tier ${tier}, key ${key}: ${error.message}`, { tier, key, cause: error.cause })
        : new CacheError(operation === 'encode' ? 'TIER_ERROR' : 'DECODE_ERROR', `tier ${tier}: the codec failed to ${operation} key ${key}: ${error instanceof Error ? error.message : String(error)}`, {
            tier,
            key,
            cause: error,
          })
    this.#counters.bump(this.#counters.errors, i)
    this.#fail(reported, i, key)
  }
}

/** The plan of codecs `codecs` (aligned with the tiers) checking values with `check`. */
export function codecPlan(codecs: readonly (Codec | undefined)[], check: ValueCheck): CodecPlan {
  return {
    codecs,
    check,
    tiers: (stores, tierTimeout, counters, fail, now) => new CodecTiers(stores, tierTimeout, counters, fail, now, codecs),
  }
}
