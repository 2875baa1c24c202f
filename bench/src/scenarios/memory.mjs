// Scenario 5: heap bytes per entry for 100,000 entries, each library in its own process.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { loadAdapters } from '../adapters/index.mjs'
import { summarize, fmtNum } from '../stats.mjs'
import { must } from '../harness.mjs'

const run = promisify(execFile)
const ENTRIES = 100_000
const TARGET = 120
const child = fileURLToPath(new URL('../memory-child.mjs', import.meta.url))

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'memory',
  async run({ quick, log }) {
    const rounds = quick ? 1 : 3
    const { adapters } = await loadAdapters()
    /** @type {Map<import('../adapters/types.mjs').Adapter, { perEntry: number[], loads: number[], error?: string }>} */
    const results = new Map(adapters.map((a) => [a, { perEntry: [], loads: [] }]))
    for (let round = 0; round < rounds; round++) {
      const n = adapters.length
      for (let j = 0; j < n; j++) {
        const adapter = /** @type {import('../adapters/types.mjs').Adapter} */ (adapters[(round + j) % n])
        const result = must(results, adapter)
        if (result.error) continue
        try {
          const { stdout } = await run(process.execPath, ['--expose-gc', child, adapter.id, String(ENTRIES)], {
            timeout: 120_000,
            maxBuffer: 1 << 20,
          })
          const out = JSON.parse(stdout.trim().split('\n').pop() ?? '')
          if (out.loads !== ENTRIES) throw new Error(`loader ran ${out.loads} times for ${ENTRIES} entries`)
          if (out.evictedInSample) throw new Error(`${out.evictedInSample} sampled entries were gone after the fill`)
          result.perEntry.push((out.heapBytes + out.arrayBufferBytes) / ENTRIES)
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error)
          result.error = message.split('\n')[0] ?? message
          log(`  ${adapter.label}: ${result.error}`)
        }
      }
      log(`  round ${round + 1}/${rounds} done`)
    }

    const map = adapters.find((a) => a.id === 'map')
    const mapSamples = map ? must(results, map).perEntry : []
    const mapMedian = mapSamples.length ? summarize(mapSamples).median : Number.NaN
    const rows = adapters.map((a) => {
      const r = must(results, a)
      if (r.error || !r.perEntry.length) return [a.label, `error: ${r.error ?? 'no samples'}`, '', '', 'no']
      const s = summarize(r.perEntry)
      return [
        a.label,
        fmtNum(s.median),
        `${fmtNum(s.min)} .. ${fmtNum(s.max)}`,
        a === map ? '0 (baseline)' : `${s.median - mapMedian >= 0 ? '+' : ''}${fmtNum(s.median - mapMedian)}`,
        a === map ? '—' : s.median <= TARGET ? 'yes' : 'no',
      ]
    })
    return {
      title: `Memory: heap bytes per entry at ${fmtNum(ENTRIES)} entries`,
      description:
        `Each library in a fresh \`node --expose-gc\` child process (${rounds} per library, rotating order). ` +
        `After a throwaway warm-up instance, heap is measured after gc, then a cache is created with capacity ${fmtNum(ENTRIES)} ` +
        `and filled through its getOrSet-equivalent with ${fmtNum(ENTRIES)} keys (\`key:<i>\`) whose loader returns ` +
        `\`{ k, id, ok }\`; heap is measured again after gc. Bytes per entry = (heapUsed growth + ArrayBuffer growth) / entries, ` +
        `so it includes the keys and values the cache retains, its entry envelopes, index and any preallocation. ` +
        `Target for @tiercache/core: <= ${TARGET} bytes/entry.`,
      columns: ['library', 'median bytes/entry', 'spread (min .. max)', 'more than async Map', `<= ${TARGET}?`],
      rows,
      notes: [
        'The async Map row is the floor for holding the same keys and values in a keyed structure.',
        'After measuring, each child reads back 1 in 100 keys and fails if any had to be reloaded (evicted or lost).',
      ],
    }
  },
}
