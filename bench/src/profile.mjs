// Where a library spends its CPU in a scenario's workload: a CPU profile (node --cpu-prof) of a child process
// running it (profile-child.mjs), summarised as self time per function. Scenarios attach it to a missed target,
// so the reason given beside a miss is measured in the same run.
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const child = fileURLToPath(new URL('./profile-child.mjs', import.meta.url))
const SAMPLING_US = 100

/**
 * @typedef {object} ProfileLine
 * @property {string} name    function name and where it is (file:line)
 * @property {number} share   of the samples that were not idle, 0..1
 */

/**
 * @param {object} options
 * @param {'hot-hit' | 'cold-miss' | 'stampede' | 'stale'} options.kind   a workload of profile-child.mjs
 * @param {string} options.adapterId
 * @param {number} [options.ms]     how long the loop runs
 * @param {number} [options.top]
 * @returns {Promise<{ lines: ProfileLine[], samples: number }>}
 */
export async function profileLoop({ kind, adapterId, ms = 2_000, top = 8 }) {
  const dir = await mkdtemp(join(tmpdir(), 'tiercache-bench-prof-'))
  try {
    await run(
      process.execPath,
      ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${SAMPLING_US}`, child, kind, adapterId, String(ms)],
      { timeout: ms + 60_000 },
    )
    const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'))
    if (!file) throw new Error('node --cpu-prof wrote no profile')
    return summarizeProfile(JSON.parse(await readFile(join(dir, file), 'utf8')), top)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Self time per function. Samples in V8 builtins and natives (no script URL, e.g. `set length` for
 * `array.length = 0`) count for the JS function that called them; idle and program time, the workload's own
 * code (bench/src) and Node's internals (module loading) are left out.
 * @param {{ nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }>, samples: number[] }} profile
 * @param {number} top
 */
export function summarizeProfile(profile, top) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  /** @type {Map<number, number>} */
  const parentOf = new Map()
  for (const node of profile.nodes) for (const c of node.children ?? []) parentOf.set(c, node.id)
  const isNative = (/** @type {{ callFrame: { functionName: string, url: string } }} */ n) =>
    n.callFrame.url === '' && !n.callFrame.functionName.startsWith('(')
  /** @type {Map<string, number>} */
  const self = new Map()
  let counted = 0
  for (const sample of profile.samples) {
    let node = byId.get(sample)
    while (node && isNative(node) && parentOf.has(node.id)) node = byId.get(/** @type {number} */ (parentOf.get(node.id)))
    if (!node) continue
    const { functionName, url, lineNumber } = node.callFrame
    if (functionName === '(idle)' || functionName === '(program)' || functionName === '(root)') continue
    // The workload's own code and Node's module loading are not the library's.
    if (url.includes('/bench/src/') || url.startsWith('node:')) continue
    const where = url.replace(/^file:\/\//, '').split('/').slice(-3).join('/')
    const name = url ? `${functionName || '(anonymous)'} (${where}:${lineNumber + 1})` : functionName
    self.set(name, (self.get(name) ?? 0) + 1)
    counted++
  }
  const lines = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, n]) => ({ name, share: n / counted }))
  return { lines, samples: counted }
}

/**
 * "write (core/dist/index.js:588) 14%, #callLoader (core/dist/index.js:1423) 13%, ..."
 * @param {ProfileLine[]} lines
 */
export function formatProfile(lines) {
  return lines.map((l) => `${l.name} ${(l.share * 100).toFixed(0)}%`).join(', ')
}

/**
 * The profile as one sentence for a missed target, or why there is none (a failed profile never fails a scenario).
 * @param {Parameters<typeof profileLoop>[0]} options
 */
export async function profileNote(options) {
  try {
    const { lines, samples } = await profileLoop(options)
    return `CPU profile of this workload in this run (node --cpu-prof in a child process, ${samples} samples every ${SAMPLING_US} µs, self time per function, V8 builtins counted for their caller; idle, Node internals and the benchmark's own loop left out): ${formatProfile(lines)}.`
  } catch (error) {
    return `(the CPU profile failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)})`
  }
}
