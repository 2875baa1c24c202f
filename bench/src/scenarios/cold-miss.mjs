// Scenario 2: getOrSet on a key that is not cached, with a loader that answers at once.
import { loadAdapters } from '../adapters/index.mjs'
import { interleave, compileLoop, must, startClock, sinceNs } from '../harness.mjs'
import { profileNote } from '../profile.mjs'
import { medianRatio, ratioRows } from '../rows.mjs'
import { fmtNs, fmtNum, fmtRatio, sleep } from '../stats.mjs'

const TARGET = 4
// Ops per cache instance: each instance sees CHUNK distinct keys once, so every library's store
// grows to the same size. A slice runs as many fresh instances as fit its time budget.
const CHUNK = 10_000
const MAX_CHUNKS = 40

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'cold-miss',
  async run({ quick, log }) {
    const rounds = quick ? 3 : 7
    const sliceMs = quick ? 120 : 300
    const { adapters } = await loadAdapters()
    const keys = Array.from({ length: CHUNK }, (_, i) => `miss:${i}`)
    const loops = new Map(adapters.map((a) => [a, compileLoop(`cold-${a.id}`)]))
    const loopOf = (/** @type {import('../adapters/types.mjs').Adapter} */ a) => must(loops, a)
    /** @type {Map<import('../adapters/types.mjs').Adapter, number>} */
    const chunksPerSlice = new Map(adapters.map((a) => [a, 1]))

    const results = await interleave({
      subjects: adapters,
      rounds,
      label: (a) => a.label,
      log,
      async slice(adapter, round) {
        const chunks = must(chunksPerSlice, adapter)
        let totalNs = 0
        for (let c = 0; c < chunks; c++) {
          let loads = 0
          const instance = await adapter.create({
            ttlMs: 10 * 60_000,
            maxEntries: CHUNK + 1,
            load: (key) => {
              loads++
              return { k: key }
            },
          })
          const start = startClock()
          const wrong = await loopOf(adapter)(instance.getOrSet, keys, CHUNK)
          totalNs += sinceNs(start)
          if (wrong !== 0) throw new Error(`${wrong} wrong values`)
          if (loads !== CHUNK) throw new Error(`loader ran ${loads} times for ${CHUNK} misses`)
          // Background writes (some libraries answer before storing) finish outside the timing.
          await sleep(1)
          await instance.close?.()
        }
        if (round < 0) {
          const chunkMs = totalNs / chunks / 1e6
          chunksPerSlice.set(adapter, Math.min(MAX_CHUNKS, Math.max(1, Math.round(sliceMs / chunkMs))))
        }
        return totalNs / (chunks * CHUNK)
      },
    })

    const baseline = adapters.find((a) => a.id === 'map')
    const chunkCounts = [...chunksPerSlice.values()]
    const tc = medianRatio(results, adapters.find((a) => a.id === 'tiercache'), baseline)
    const met = tc === undefined ? undefined : tc.ratio <= TARGET
    /** @type {import('../report.mjs').Target} */
    const target = {
      target: `Cold miss: getOrSet on a missing key, immediate loader <= ${TARGET}x the async Map`,
      measured: tc ? `${fmtRatio(tc.ratio)} (${fmtNs(tc.median)} vs ${fmtNs(tc.baseMedian)})` : 'not measured',
      met,
    }
    if (met === false) {
      log('  @tiercache/core misses its target: profiling its cold-miss loop...')
      target.reason =
        'The baseline does a Map get, awaits the loader and does a Map set. A core miss also runs the loader through a context object ' +
        '(key, abort signal, setPolicy), registers the load in flight so that concurrent misses share it, checks that the value can be ' +
        'serialized (bad values must throw at the call site), builds an entry with its time windows, and writes it into the bounded LRU ' +
        `store (index, time slots, list links). ${await profileNote({ kind: 'cold-miss', adapterId: 'tiercache' })}`
    }
    return {
      targets: [target],
      title: 'Cold miss: getOrSet on a missing key, immediate loader',
      description:
        `Each op is a getOrSet on a key the cache has never seen, with a loader that returns a value synchronously. ` +
        `A fresh cache takes ${fmtNum(CHUNK)} sequential ops on distinct keys, so every store grows to the same size; ` +
        `a slice runs ${Math.min(...chunkCounts)} to ${Math.max(...chunkCounts)} such caches (sized in the warm-up round to about ${sliceMs} ms), ` +
        `timing only the ops. ${rounds} measured rounds + 1 warm-up. ` +
        `Baseline: map.get miss + await loader + map.set in an async function. ` +
        `Target for @tiercache/core: <= ${TARGET}x.`,
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
        'Every cache checks that the loader ran exactly once per op and that each value belongs to its key.',
        `Capacity is larger than ${fmtNum(CHUNK)}, so bounded stores never evict.`,
      ],
    }
  },
}
