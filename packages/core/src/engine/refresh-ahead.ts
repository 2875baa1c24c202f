import type { Entry } from '../entry.js'
import { FrequencySketch, hashKey } from '../stores/frequency-sketch.js'
import type { Call } from './loader.js'
import { setup, type Installable, type Strategy } from './strategy.js'

/**
 * Refresh-ahead: installs what `policy.refreshAhead` asks for. A fresh entry read after that fraction of its fresh
 * life is refreshed in the background if it is hot (read at least `minReads` times since it was written), so hot
 * keys never expire under their readers. Deterministic: the same reads give the same refreshes (unlike
 * `earlyRefresh`'s random XFetch). With a coordinator and shared tiers, one process refreshes a key at a time and
 * the others take its result from the shared tier.
 *
 * @example
 * const cache = createCache({
 *   tiers: [memoryStore(), upstashStore({ redis })],
 *   policy: { ttl: '5m', refreshAhead: 0.8 },
 *   strategies: [refreshAhead()],
 * })
 */
export function refreshAhead(): Strategy {
  const strategy: Installable = {
    setup,
    name: 'refreshAhead',
    policy(input, base, ttl, where) {
      let at = base?.refreshAhead ?? 0
      let minReads = base?.refreshAheadMinReads ?? 2
      const ahead = input.refreshAhead
      if (ahead !== undefined) {
        const given = typeof ahead === 'object' && ahead !== null ? ahead.at : ahead
        if (given === false) at = 0
        else if (typeof given !== 'number' || !(given > 0 && given < 1)) {
          throw new RangeError(`${where}.refreshAhead must be false, a fraction of the ttl between 0 and 1 (exclusive), or { at, minReads }, got ${String(given)}`)
        } else at = given
        if (typeof ahead === 'object' && ahead !== null && ahead.minReads !== undefined) {
          minReads = ahead.minReads
          if (!Number.isInteger(minReads) || minReads < 1 || minReads > 15) {
            throw new RangeError(`${where}.refreshAhead.minReads must be an integer from 1 to 15, got ${String(minReads)}`)
          }
        }
      }
      if (at > 0 && ttl === 0) throw new RangeError(`${where}.refreshAhead needs ${where}.ttl > 0`)
      return { refreshAhead: at, refreshAheadMinReads: minReads }
    },
    install(host) {
      const ahead = new ReadCounts()
      const loads = host.loads
      return {
        fresh(hit, entry, tier, now) {
          const { refreshAhead: at = 0, refreshAheadMinReads: minReads = 2 } = hit.p
          // get() has no loader to refresh with.
          if (at > 0 && hit.loader !== undefined && ahead.due(hit.full, entry, at, minReads, now) && loads.running(hit.full) === undefined) {
            loads.refresh(hit as Call, entry, tier + 1)
          }
        },
      }
    },
  }
  return strategy
}

/**
 * Reads per entry (key and creation time) in a count-min sketch: a new entry starts from zero, memory stays
 * bounded, and old counts fade (the sketch halves its counters as it fills).
 */
export class ReadCounts {
  readonly #reads = new FrequencySketch(4_096)

  /** Counts this read of `entry`; true when it is past `at` of its fresh life and read `minReads` times. */
  due(full: string, entry: Entry, at: number, minReads: number, now: number): boolean {
    const created = entry.createdAt
    const hash = hashKey(full) ^ Math.imul((created % 0x100000000) ^ Math.floor(created / 0x100000000), 0x9e3779b1)
    this.#reads.increment(hash)
    if (now < created + (entry.freshUntil - created) * at) return false
    return this.#reads.frequency(hash) >= minReads
  }
}
