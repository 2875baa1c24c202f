// Scenario 1: getOrSet on keys that are already cached and fresh.
import { loadAdapters } from '../adapters/index.mjs'
import { tiercacheAdapter } from '../adapters/tiercache.mjs'
import { interleave, compileLoop, must, startClock, sinceNs } from '../harness.mjs'
import { profileNote } from '../profile.mjs'
import { medianRatio, ratioRows } from '../rows.mjs'
import { fmtNs, fmtNum, fmtRatio, sleep } from '../stats.mjs'

const KEYS = 1_000
const TARGET = 2
/** Issue 15: the hot hit of every eviction policy stays within this ratio to the async Map. */
const POLICY_TARGET = 1.3
const MIN_OPS = 20_000
const MAX_OPS = 5_000_000

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'hot-hit',
  async run({ quick, log }) {
    const rounds = quick ? 3 : 7
    // Slices are sized by time, not op count: the warm-up round measures each library and sets its
    // op count so one slice lasts about this long (at least MIN_OPS ops, at most MAX_OPS).
    const sliceMs = quick ? 120 : 300
    const loaded = (await loadAdapters()).adapters
    // The memoryStore eviction policies ride beside the default (LRU) tiercache row.
    const at = loaded.findIndex((a) => a.id === 'tiercache')
    const adapters = at === -1 ? loaded : [...loaded.slice(0, at + 1), tiercacheAdapter('lfu'), tiercacheAdapter('fifo'), ...loaded.slice(at + 1)]
    const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`)

    /** @type {Map<import('../adapters/types.mjs').Adapter, { instance: import('../adapters/types.mjs').Instance, loads: () => number, loop: ReturnType<typeof compileLoop>, ops: number }>} */
    const state = new Map()
    for (const adapter of adapters) {
      let loads = 0
      const instance = await adapter.create({
        ttlMs: 10 * 60_000,
        maxEntries: 10_000,
        load: (key) => {
          loads++
          return { k: key }
        },
      })
      for (const key of keys) await instance.getOrSet(key)
      state.set(adapter, { instance, loads: () => loads, loop: compileLoop(`hot-${adapter.id}`), ops: MIN_OPS * 5 })
    }

    // Let writes that some libraries do in the background (after answering) land before measuring.
    await sleep(20)

    /** @type {Map<import('../adapters/types.mjs').Adapter, number>} */
    const opsUsed = new Map()
    const results = await interleave({
      subjects: adapters,
      rounds,
      label: (a) => a.label,
      log,
      async slice(adapter, round) {
        const entry = must(state, adapter)
        const { instance, loads, loop, ops } = entry
        if (loads() !== KEYS) throw new Error(`priming ran the loader ${loads()} times, expected ${KEYS}`)
        const start = startClock()
        const wrong = await loop(instance.getOrSet, keys, ops)
        const ns = sinceNs(start)
        if (wrong !== 0) throw new Error(`${wrong} wrong values in the measured loop`)
        if (loads() !== KEYS) throw new Error(`loader ran ${loads() - KEYS} times in the measured loop (not a hit)`)
        if (round < 0) {
          entry.ops = Math.round(Math.min(MAX_OPS, Math.max(MIN_OPS, (sliceMs * 1e6) / (ns / ops))))
          opsUsed.set(adapter, entry.ops)
        }
        return ns / ops
      },
    })
    for (const { instance } of state.values()) await instance.close?.()

    const baseline = adapters.find((a) => a.id === 'map')
    const tc = medianRatio(results, adapters.find((a) => a.id === 'tiercache'), baseline)
    const met = tc === undefined ? undefined : tc.ratio <= TARGET
    /** @type {import('../report.mjs').Target} */
    const target = {
      target: `Hot hit: getOrSet on a fresh memory-L1 key <= ${TARGET}x the async Map`,
      measured: tc ? `${fmtRatio(tc.ratio)} (${fmtNs(tc.median)} vs ${fmtNs(tc.baseMedian)})` : 'not measured',
      met,
    }
    const byPolicy = ['tiercache', 'tiercache-lfu', 'tiercache-fifo'].map((id) => ({
      id,
      r: medianRatio(results, adapters.find((a) => a.id === id), baseline),
    }))
    const policyNames = { tiercache: 'lru', 'tiercache-lfu': 'lfu', 'tiercache-fifo': 'fifo' }
    /** @type {import('../report.mjs').Target} */
    const policyTarget = {
      target: `Hot hit with every memoryStore eviction policy (lru, lfu, fifo) <= ${POLICY_TARGET}x the async Map`,
      measured: byPolicy
        .map(({ id, r }) => `${policyNames[/** @type {keyof typeof policyNames} */ (id)]} ${r ? `${fmtRatio(r.ratio)} (${fmtNs(r.median)})` : 'not measured'}`)
        .join(', '),
      met: byPolicy.some(({ r }) => r === undefined) ? undefined : byPolicy.every(({ r }) => /** @type {{ ratio: number }} */ (r).ratio <= POLICY_TARGET),
    }
    if (policyTarget.met === false) {
      policyTarget.reason =
        'Wall-time ratios on this shared 2-core machine vary by about ±30% from run to run (the spread column); compare the three policy rows with each other in the same run.'
    }
    if (met === false) {
      log('  @tiercache/core misses its target: profiling its hot-hit loop...')
      target.reason =
        `${await profileNote({ kind: 'hot-hit', adapterId: 'tiercache' })} ` +
        "Counted in instructions instead of time (callgrind, by the core engineer; not measured by this run), a hot hit costs about 1.22x the async Map loop; " +
        'their notes put run-to-run variation of wall-time ratios on this shared 2-core machine at about ±30% with its load (the spread column shows this run\'s).'
    }
    return {
      targets: [target, policyTarget],
      title: 'Hot hit: getOrSet on a cached, fresh key',
      description:
        `${fmtNum(KEYS)} keys primed once, then each slice awaits getOrSet on them in rotation, sequentially ` +
        `(${rounds} measured rounds after 1 warm-up round that sizes each library's slice to about ${sliceMs} ms: ` +
        `${fmtNum(Math.min(...opsUsed.values()))} to ${fmtNum(Math.max(...opsUsed.values()))} ops per slice). ` +
        `Target for @tiercache/core: <= ${TARGET}x the async Map baseline; each memoryStore eviction policy (issue 15): <= ${POLICY_TARGET}x.`,
      columns: ['library', 'median ns/op', 'spread (min .. max)', 'ratio to async Map', `<= ${TARGET}x?`],
      rows: ratioRows({
        subjects: adapters,
        results,
        baseline,
        label: (a) => a.label,
        fmt: fmtNs,
        target: TARGET,
      }),
      notes: [
        'Every slice checks that each returned value belongs to its key and that the loader ran 0 times during the measured loop.',
        'ttl 10 minutes for every library; bounded stores hold up to 10,000 entries.',
      ],
    }
  },
}
