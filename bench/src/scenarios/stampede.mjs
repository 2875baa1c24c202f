// Scenario 3: many concurrent getOrSet calls on one missing key with a slow loader.
import { loadAdapters } from '../adapters/index.mjs'
import { interleave, must, startClock, sinceNs } from '../harness.mjs'
import { profileNote } from '../profile.mjs'
import { medianRatio, ratioRows } from '../rows.mjs'
import { fmtMs, fmtNum, fmtInt, fmtRatio, sleep } from '../stats.mjs'

const CALLS = 10_000
const LOADER_MS = 20
const TARGET = 1.3

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'stampede',
  async run({ quick, log }) {
    const rounds = quick ? 3 : 7
    const { adapters } = await loadAdapters()
    /** @type {Map<import('../adapters/types.mjs').Adapter, number[]>} */
    const loaderRuns = new Map(adapters.map((a) => [a, []]))

    const results = await interleave({
      subjects: adapters,
      rounds,
      label: (a) => a.label,
      log,
      async slice(adapter, round) {
        let loads = 0
        const instance = await adapter.create({
          ttlMs: 10 * 60_000,
          maxEntries: 1_000,
          load: async (key) => {
            loads++
            await sleep(LOADER_MS)
            return { k: key }
          },
        })
        const key = `stampede:${round}`
        const pending = new Array(CALLS)
        const start = startClock()
        for (let i = 0; i < CALLS; i++) pending[i] = instance.getOrSet(key)
        const values = await Promise.all(pending)
        const ms = sinceNs(start) / 1e6
        const wrong = values.filter((v) => v?.k !== key).length
        if (wrong) throw new Error(`${wrong} of ${CALLS} callers got a wrong value`)
        if (round >= 0) must(loaderRuns, adapter).push(loads)
        await instance.close?.()
        return ms
      },
    })

    const baseline = adapters.find((a) => a.id === 'lru-cache-fetch')
    /** @typedef {import('../adapters/types.mjs').Adapter} Adapter */
    const runsCell = (/** @type {Adapter} */ a) => {
      const runs = must(loaderRuns, a)
      if (!runs.length) return ''
      const lo = Math.min(...runs)
      const hi = Math.max(...runs)
      return lo === hi ? fmtInt(lo) : `${fmtInt(lo)} .. ${fmtInt(hi)}`
    }
    const coalesced = (/** @type {Adapter} */ a) => must(loaderRuns, a).length > 0 && must(loaderRuns, a).every((n) => n === 1)
    const tcAdapter = adapters.find((a) => a.id === 'tiercache')
    const tc = medianRatio(results, tcAdapter, baseline)
    const met = tc === undefined || !tcAdapter ? undefined : coalesced(tcAdapter) && tc.ratio <= TARGET
    /** @type {import('../report.mjs').Target} */
    const target = {
      target: `Stampede: ${fmtNum(CALLS)} concurrent calls, ${LOADER_MS} ms loader: 1 loader run, wall time <= ${TARGET}x lru-cache fetch`,
      measured: tc && tcAdapter ? `${runsCell(tcAdapter)} loader run(s), ${fmtRatio(tc.ratio)} (${fmtMs(tc.median)} vs ${fmtMs(tc.baseMedian)})` : 'not measured',
      met,
    }
    if (met === false) {
      log('  @tiercache/core misses its target: profiling its stampede...')
      target.reason = await profileNote({ kind: 'stampede', adapterId: 'tiercache' })
    }
    return {
      targets: [target],
      title: `Stampede: ${fmtNum(CALLS)} concurrent calls on one missing key, ${LOADER_MS} ms loader`,
      description:
        `A fresh cache per slice; ${fmtNum(CALLS)} getOrSet calls are started in one tick on the same missing key ` +
        `and awaited together; the loader waits ${LOADER_MS} ms (setTimeout). Wall time is from the first call ` +
        `to the last answer (${rounds} measured rounds + 1 warm-up). ` +
        `Target for @tiercache/core: 1 loader run and <= ${TARGET}x lru-cache fetch.`,
      columns: [
        'library',
        'median wall time',
        'spread (min .. max)',
        'ratio to lru-cache fetch',
        'loader runs per stampede',
        `1 run and <= ${TARGET}x?`,
      ],
      rows: ratioRows({
        subjects: adapters,
        results,
        baseline,
        label: (a) => a.label,
        fmt: fmtMs,
        target: TARGET,
        extra: (a) => [runsCell(a)],
        meets: (a, ratio) => coalesced(a) && ratio <= TARGET,
      }),
      notes: [
        'Loader runs are counted, not assumed: a library that does not coalesce concurrent misses shows one run per caller.',
        'The async Map and the async-wrapped lru-cache get do not coalesce by design; they are shown for scale.',
      ],
    }
  },
}
