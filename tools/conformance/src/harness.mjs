// Runs the suite against the targets: one suite server, one process per target, both targets at once.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startOriginServer } from './origin-server.mjs'
import { loadSuites, SUITE_VERSION } from './suite.mjs'

const RUN_TARGET = fileURLToPath(new URL('./run-target.mjs', import.meta.url))
const require = createRequire(import.meta.url)

/** @typedef {import('./report.mjs').Run} Run */

/**
 * Runs the targets at once against one suite server. With `floor` (the passing tests last recorded), a test that
 * passed then and fails now is run again, up to `retries` times, with the tests it depends on: the suite's
 * timings (3 s pauses against 2 s lifetimes, Date in whole seconds) let a test fail on a loaded machine for
 * reasons unrelated to caching. A test counts as passing when any of its runs passed; a real regression fails
 * every time.
 * @param {{ targets?: ('private' | 'shared')[], floor?: Record<string, { passing: string[] }>, retries?: number, log?: (line: string) => void }} [options]
 *   floor: per target, the tests to run again when they fail
 * @returns {Promise<Run[]>}
 */
export async function runConformance({ targets = ['private', 'shared'], floor, retries = 5, log = () => {} } = {}) {
  const server = await startOriginServer()
  const dir = mkdtempSync(join(tmpdir(), 'tiercache-conformance-runs-'))
  let runs = 0
  /** @param {'private' | 'shared'} target @param {string[] | undefined} ids @returns {Promise<Run>} */
  const once = async (target, ids) => {
    const out = join(dir, `${target}-${runs++}.json`)
    await runChild(target, server.url, out, ids)
    return /** @type {Run} */ (JSON.parse(readFileSync(out, 'utf8')))
  }
  try {
    log(`suite server ${SUITE_VERSION} at ${server.url}`)
    return await Promise.all(
      targets.map(async (target) => {
        const run = await once(target, undefined)
        log(`${target}: ran in ${(run.ms / 1000).toFixed(1)} s`)
        const recorded = floor?.[target]?.passing ?? []
        const suites = await loadSuites(target)
        for (let attempt = 1; attempt <= retries; attempt++) {
          const lost = recorded.filter((id) => run.results[id] !== true)
          if (lost.length === 0) break
          const ids = withDependencies(suites, lost)
          log(`${target}: running ${lost.length} failed test(s) again (${attempt} of ${retries})${lost.length <= 20 ? `: ${lost.join(' ')}` : ''}`)
          const again = await once(target, ids)
          for (const id of ids) if (again.results[id] === true) run.results[id] = true
          run.ms += again.ms
        }
        return run
      }),
    )
  } finally {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The tests and, transitively, the tests they depend on.
 * @param {import('./suite.mjs').Suite[]} suites
 * @param {string[]} ids
 */
function withDependencies(suites, ids) {
  const byId = new Map(suites.flatMap((s) => s.tests.map((t) => /** @type {const} */ ([t.id, t]))))
  const out = new Set()
  const visit = (/** @type {string} */ id) => {
    if (out.has(id)) return
    out.add(id)
    for (const dep of byId.get(id)?.depends_on ?? []) visit(dep)
  }
  ids.forEach(visit)
  return [...out]
}

/**
 * @param {string} target
 * @param {string} origin
 * @param {string} out
 * @param {string[] | undefined} ids
 */
function runChild(target, origin, out, ids) {
  return new Promise((resolve, reject) => {
    const args = [RUN_TARGET, target, origin, out, ...(ids === undefined ? [] : [ids.join(',')])]
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const keep = (/** @type {Buffer} */ chunk) => {
      output = (output + chunk.toString('utf8')).slice(-8000)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    if (process.env.TIERCACHE_CONFORMANCE_TRACE) child.stderr.pipe(process.stderr)
    // A bound many times the expected few seconds, so that a hung target fails the run instead of stalling it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000)
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(undefined)
      else reject(new Error(`the ${target} run failed (${signal ?? code}):\n${output}`))
    })
  })
}

/** Versions of what the runs used, for the report. */
export function versions() {
  /** @param {string} name */
  const version = (name) => /** @type {{ version: string }} */ (require(`${name}/package.json`)).version
  return {
    'http-cache-tests': SUITE_VERSION,
    undici: version('undici'),
    miniflare: version('miniflare'),
    Node: process.versions.node,
  }
}
