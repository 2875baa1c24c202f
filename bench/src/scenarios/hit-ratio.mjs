// Scenario: hit ratio of each eviction policy on synthetic traces, against lru-cache and Belady's optimal.
import { loadCore } from '../adapters/tiercache.mjs'
import { exactLfuPolicy, knownPopularityPolicy, lruCachePolicy, optimalPolicy, tiercachePolicy, topByCountPolicy } from '../hit-ratio/policies.mjs'
import { checksum, TRACES } from '../hit-ratio/traces.mjs'

/** Capacities, as fractions of the key space. */
const CAPACITIES = [0.01, 0.05, 0.1]
/** On the Zipf + scan/loop traces, LFU must be at most this many points below optimal... */
const GAP_TO_OPTIMAL = 10
/** ...and at least this many points above lru-cache. */
const LEAD_OVER_LRU_CACHE = 10
const SEED = 20_240_601

/** @param {number} hits @param {number} total */
const pct = (hits, total) => (100 * hits) / total
/** @param {number} p */
const fmtPct = (p) => `${p.toFixed(1)}%`
/** @param {number} points */
const fmtPoints = (points) => `${points >= 0 ? '+' : ''}${points.toFixed(1)}`

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'hit-ratio',
  async run({ quick, log }) {
    const keySpace = quick ? 20_000 : 100_000
    const length = keySpace * 10
    /** @type {import('../hit-ratio/policies.mjs').Policy[]} */
    const policies = [optimalPolicy, topByCountPolicy, knownPopularityPolicy, exactLfuPolicy]
    /** @type {string[]} */
    const notes = []
    try {
      const core = await loadCore()
      policies.push(tiercachePolicy(core, 'lfu'), tiercachePolicy(core, 'lru'), tiercachePolicy(core, 'fifo'))
    } catch (error) {
      notes.push(`@tiercache/core could not be imported (${error instanceof Error ? error.message : String(error)}): its columns are missing.`)
    }
    const { LRUCache } = await import('lru-cache')
    policies.push(lruCachePolicy(LRUCache))

    const keys = Array.from({ length: keySpace }, (_, i) => `key:${i}`)
    /** @type {string[][]} */
    const rows = []
    /** @type {Array<{ trace: string, capacity: number, gap: number, lead: number, knownGap: number, knownLead: number }>} */
    const judged = []
    const started = Date.now()
    for (const [t, spec] of TRACES.entries()) {
      const trace = spec.generate(keySpace, length, SEED + t)
      const popularity = spec.popularity?.(keySpace, SEED + t)
      notes.push(`${spec.name}: ${spec.description}; seed ${SEED + t}, checksum ${checksum(trace)}.`)
      for (const fraction of CAPACITIES) {
        const capacity = Math.round(keySpace * fraction)
        /** @type {Map<string, number>} */
        const ratio = new Map()
        for (const policy of policies) {
          const hits = policy.hits({ trace, keys, capacity, popularity })
          if (hits !== undefined) ratio.set(policy.id, pct(hits, length))
        }
        const optimal = /** @type {number} */ (ratio.get('optimal'))
        const lfu = ratio.get('tiercache-lfu')
        const lruCache = /** @type {number} */ (ratio.get('lru-cache'))
        const cell = (/** @type {string} */ id) => {
          const value = ratio.get(id)
          return value === undefined ? 'n/a' : fmtPct(value)
        }
        rows.push([
          spec.name,
          `${fraction * 100}% (${capacity.toLocaleString('en-US')})`,
          cell('optimal'),
          cell('top-by-count'),
          cell('known-popularity'),
          cell('exact-lfu'),
          cell('tiercache-lfu'),
          cell('tiercache-lru'),
          cell('tiercache-fifo'),
          cell('lru-cache'),
          lfu === undefined ? 'n/a' : fmtPoints(lfu - optimal),
          lfu === undefined ? 'n/a' : fmtPoints(lfu - lruCache),
        ])
        const known = /** @type {number} */ (ratio.get('known-popularity'))
        if (spec.scanMix && lfu !== undefined) {
          judged.push({ trace: spec.name, capacity: fraction, gap: optimal - lfu, lead: lfu - lruCache, knownGap: optimal - known, knownLead: known - lruCache })
        }
      }
      log(`  ${spec.name} done (${((Date.now() - started) / 1000).toFixed(1)} s)`)
    }

    /** @type {import('../report.mjs').Target[]} */
    const targets = []
    const where = (/** @type {{ trace: string, capacity: number }} */ j) => `${j.trace} at ${j.capacity * 100}%`
    if (judged.length > 0) {
      const worstGap = judged.reduce((a, b) => (b.gap > a.gap ? b : a))
      const leastLead = judged.reduce((a, b) => (b.lead < a.lead ? b : a))
      targets.push(
        {
          target: `Hit ratio on the Zipf + scan/loop traces: LFU within ${GAP_TO_OPTIMAL} points of Belady's optimal`,
          measured: `largest gap ${worstGap.gap.toFixed(1)} points (${where(worstGap)}); ${judged.map((j) => `${where(j)}: ${j.gap.toFixed(1)}`).join(', ')}`,
          met: worstGap.gap <= GAP_TO_OPTIMAL,
          reason: `a cache that knows every key's share of the reads (the best an online policy can do on average there) is ${worstGap.knownGap.toFixed(1)} points from optimal at ${where(worstGap)}; an LFU has to learn those shares.`,
        },
        {
          target: `Hit ratio on the Zipf + scan/loop traces: LFU at least ${LEAD_OVER_LRU_CACHE} points above lru-cache`,
          measured: `smallest lead ${leastLead.lead.toFixed(1)} points (${where(leastLead)}); ${judged.map((j) => `${where(j)}: ${fmtPoints(j.lead)}`).join(', ')}`,
          met: leastLead.lead >= LEAD_OVER_LRU_CACHE,
          reason: `a cache that knows every key's share of the reads (the best an online policy can do on average there) is ${fmtPoints(leastLead.knownLead)} points from lru-cache at ${where(leastLead)}; an LFU has to learn those shares.`,
        },
      )
    } else {
      targets.push({ target: 'Hit ratio of LFU on the Zipf + scan/loop traces', measured: 'not measured (core not built)', met: undefined })
    }

    return {
      targets,
      title: 'Hit ratio: eviction policies on synthetic traces',
      description:
        `Each trace is ${length.toLocaleString('en-US')} reads over ${keySpace.toLocaleString('en-US')} keys, generated in bench/src/hit-ratio/traces.mjs ` +
        'from a fixed seed (the same trace on every machine; checksums below). Every cache replays the same trace from empty: a read that finds ' +
        'the key is a hit, a miss writes it. tiercache through `memoryStore({ maxEntries, eviction })` with its synchronous `peek`/`write`; ' +
        "lru-cache through `get`/`set` with `max`; Belady's optimal (MIN with bypass: evict the key needed farthest in the future, or do not " +
        'cache a newcomer needed later than all of them) computed offline over the whole trace, the upper bound for any policy. ' +
        'Hit ratio counts every read, the first (compulsory) misses included. "Most read keys" is the ceiling of any frequency-only ' +
        'policy: it knows each key\'s read count over the whole trace and keeps the most read ones from their first read (no ' +
        'knowledge of the order of reads, but the counts it knows include the luck of this trace). "Knows the popularity" is told each ' +
        "key's share of the reads as the generator draws them (not on the shifting trace, whose popularity moves): on a miss the newcomer " +
        'replaces the least popular resident if it is more popular, else is not cached. When reads are independent draws no policy that ' +
        'sees only the past does better on average (A0 of Aho, Denning and Ullman); an LFU must learn what it is told. "Exact LFU" learns online like ' +
        'tiercache LFU but with exact counts of every key ever read and unbounded memory (it keeps the most counted keys; a newcomer ' +
        'replaces the least counted resident only with a higher count): what a frequency sketch approximates.',
      columns: ['trace', 'capacity', "Belady's optimal", 'most read keys', 'knows the popularity', 'exact LFU', 'tiercache LFU', 'tiercache LRU', 'tiercache FIFO', 'lru-cache', 'LFU vs optimal', 'LFU vs lru-cache'],
      rows,
      notes: [
        ...notes,
        'LFU is W-TinyLFU: a 1% LRU window, a segmented LRU main region whose protected share adapts between 50% and 95% (80% at first) on misses, as ARC adapts its target: a miss on a key lately evicted from probation never having been read again there lowers it, one on a key protected had let go raises it, each step weighed by how rare that kind of eviction is; admission by a count-min sketch of 4-bit counters halved every 10 x capacity reads (at least 50,000); a tie at 3 or more goes to the newcomer, a newcomer counted once never gets in; the misses of a scan (a run of misses with no counted read between them, long enough to come about once in 1,000 misses at the rate such misses follow one another, at most the store\'s size) are not counted.',
      ],
    }
  },
}
