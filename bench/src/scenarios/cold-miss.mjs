// Scenario 2: getOrSet on a key that is not cached, with a loader that answers at once.
import { loadAdapters } from '../adapters/index.mjs'
import { interleave, compileLoop, startClock, sinceNs } from '../harness.mjs'
import { ratioRows } from '../rows.mjs'
import { fmtNs, fmtNum, sleep } from '../stats.mjs'

const TARGET = 4

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'cold-miss',
  async run({ quick, log }) {
    const rounds = quick ? 3 : 7
    const opsPerSlice = quick ? 30_000 : 100_000
    const { adapters } = await loadAdapters()
    // Every op uses a key never seen by that cache instance: a fresh instance per slice and one
    // distinct key per op. Capacity exceeds the op count so no library pays for eviction.
    const keys = Array.from({ length: opsPerSlice }, (_, i) => `miss:${i}`)
    const loops = new Map(adapters.map((a) => [a, compileLoop(`cold-${a.id}`)]))

    const results = await interleave({
      subjects: adapters,
      rounds,
      label: (a) => a.label,
      log,
      async slice(adapter) {
        let loads = 0
        const instance = await adapter.create({
          ttlMs: 10 * 60_000,
          maxEntries: opsPerSlice + 1,
          load: (key) => {
            loads++
            return { k: key }
          },
        })
        const start = startClock()
        const wrong = await loops.get(adapter)(instance.getOrSet, keys, opsPerSlice)
        const ns = sinceNs(start)
        if (wrong !== 0) throw new Error(`${wrong} wrong values`)
        if (loads !== opsPerSlice) throw new Error(`loader ran ${loads} times for ${opsPerSlice} misses`)
        // Background writes (some libraries answer before storing) finish outside the timing but
        // before the next slice.
        await sleep(5)
        await instance.close?.()
        return ns / opsPerSlice
      },
    })

    const baseline = adapters.find((a) => a.id === 'map')
    return {
      title: 'Cold miss: getOrSet on a missing key, immediate loader',
      description:
        `A fresh cache per slice, then ${fmtNum(opsPerSlice)} sequential getOrSet calls, each on a new key, ` +
        `with a loader that returns a value synchronously (${rounds} measured rounds + 1 warm-up). ` +
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
        'Every slice checks that the loader ran exactly once per op and that each value belongs to its key.',
        'Capacity is larger than the op count, so bounded stores never evict during a slice.',
      ],
    }
  },
}
