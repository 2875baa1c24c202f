// Runs every benchmark scenario, prints each table and writes BENCHMARKS.md at the repo root.
//
//   node --expose-gc src/run.mjs [--quick] [--only=hot-hit,stampede] [--out=path] [--no-write]
import { existsSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { allAdapters, loadAdapters } from './adapters/index.mjs'
import { renderConsole, renderDocument, renderTargetsConsole } from './report.mjs'
import { scenarios } from './scenarios/index.mjs'

const benchDir = fileURLToPath(new URL('..', import.meta.url))
const repoRoot = join(benchDir, '..')

/**
 * Packages of the edge, browser and bundle scenarios, first the package, then ones resolved beside it
 * (workerd is miniflare's dependency).
 */
const SCENARIO_PACKAGES = [
  ['@tiercache/edge'],
  ['@tiercache/browser'],
  ['miniflare', 'workerd'],
  ['hono'],
  ['@upstash/redis'],
  ['idb-keyval'],
  ['playwright-core'],
]

const { values: args } = parseArgs({
  // `pnpm bench -- --quick` passes the `--` through; drop it.
  args: process.argv.slice(2).filter((arg) => arg !== '--'),
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: join(repoRoot, 'BENCHMARKS.md') },
    'no-write': { type: 'boolean', default: false },
  },
})

const log = (/** @type {string} */ line) => process.stderr.write(`${line}\n`)

if (typeof globalThis.gc !== 'function') {
  log('note: started without --expose-gc; slices will not collect garbage first (use `pnpm bench`)')
}

const wanted = args.only ? new Set(args.only.split(',').map((s) => s.trim())) : undefined
if (wanted) {
  const unknown = [...wanted].filter((name) => !scenarios.some((s) => s.name === name))
  if (unknown.length) {
    log(`unknown scenario(s): ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`)
    process.exit(2)
  }
}
const selected = scenarios.filter((s) => !wanted || wanted.has(s.name))

const { adapters, skipped } = await loadAdapters()
const skippedNotes = skipped.map(
  ({ adapter, reason }) =>
    `${adapter.label}: skipped, it failed to import (${reason}).` +
    (adapter.id === 'tiercache' ? ' Build it first: `pnpm --filter @tiercache/core build`.' : ''),
)
for (const note of skippedNotes) log(`note: ${note}`)
log(`measuring: ${adapters.map((a) => a.label).join(', ')}`)

const startedAt = Date.now()
// Taken now: the load average and the commit at the end would include this run's own load and others' commits.
const machineAtStart = machine()
// Versions as loaded at the start; core's dist can be rebuilt by someone else while this runs.
const versionsAtStart = versions()
const tables = []
for (const scenario of selected) {
  log(`\n[${scenario.name}] running${args.quick ? ' (quick)' : ''}...`)
  const t0 = Date.now()
  let produced
  try {
    produced = await scenario.run({ quick: args.quick, log })
  } catch (error) {
    produced = {
      title: scenario.name,
      columns: ['error'],
      rows: [[error instanceof Error ? (error.stack ?? error.message) : String(error)]],
    }
  }
  for (const table of Array.isArray(produced) ? produced : [produced]) {
    tables.push(table)
    process.stdout.write(`${renderConsole(table)}\n`)
  }
  log(`[${scenario.name}] ${((Date.now() - t0) / 1000).toFixed(1)} s`)
}
const durationS = (Date.now() - startedAt) / 1000
const targetsSummary = renderTargetsConsole(tables)
if (targetsSummary) process.stdout.write(`${targetsSummary}\n`)
log(`\ntotal ${durationS.toFixed(1)} s`)

if (!args['no-write']) {
  const flags = `${args.quick ? ' --quick' : ''}${args.only ? ` --only=${args.only}` : ''}`
  const doc = renderDocument({
    command: `pnpm --filter @tiercache/bench bench${flags}`,
    generatedAt: new Date(startedAt).toISOString().replace(/\.\d+Z$/, 'Z'),
    durationS,
    machine: { ...machineAtStart, 'load average at end (1/5/15 min)': loadAverage() },
    versions: versionsAtStart,
    skipped: [...skippedNotes, ...rebuiltNote()],
    method: method(args.quick),
    tables,
  })
  writeFileSync(args.out, doc)
  log(`wrote ${args.out}`)
}

/** A warning when a measured package changed on disk during the run (e.g. core rebuilt meanwhile). */
function rebuiltNote() {
  const before = new Map(versionsAtStart)
  return versions()
    .filter(([name, version]) => before.get(name) !== version)
    .map(([name, version]) => `${name} changed during this run (${before.get(name)} -> ${version}); processes started later (memory children) may have measured the newer build. Re-run for consistent numbers.`)
}

function machine() {
  const cpus = os.cpus()
  return {
    CPU: `${cpus[0]?.model ?? 'unknown'} (${cpus.length} logical cores as seen by Node)`,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    OS: `${os.type()} ${os.release()} ${os.arch()}`,
    Node: `${process.version} (V8 ${process.versions.v8})`,
    'load average at start (1/5/15 min)': loadAverage(),
    'repo commit': gitCommit(),
  }
}

function loadAverage() {
  return os.loadavg().map((n) => n.toFixed(2)).join(' / ')
}

function gitCommit() {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: repoRoot, encoding: 'utf8' }).trim()
    return dirty ? `${sha} (with uncommitted changes)` : sha
  } catch {
    return 'unknown'
  }
}

/** Versions of every package an adapter or scenario uses (including skipped ones), esbuild and pnpm-resolved transitive ones. */
function versions() {
  /** @type {Map<string, string>} */
  const found = new Map()
  const read = (/** @type {string} */ dir) => {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
    } catch {
      return undefined
    }
  }
  const direct = (/** @type {string} */ pkg) => join(benchDir, 'node_modules', pkg)
  for (const [first, ...rest] of [...allAdapters.map((adapter) => adapter.packages), ...SCENARIO_PACKAGES]) {
    if (!first || found.has(first)) continue
    const firstDir = direct(first)
    let version = read(firstDir)
    if (first.startsWith('@tiercache/')) {
      const dist = join(firstDir, 'dist', 'index.js')
      const built = existsSync(dist) ? `dist built ${statSync(dist).mtime.toISOString().replace(/\.\d+Z$/, 'Z')}` : 'not built'
      const override = first === '@tiercache/core' ? process.env.TIERCACHE_CORE_MODULE : undefined
      version = `${version ?? '?'} (workspace, ${override ? `measured from TIERCACHE_CORE_MODULE=${override}` : built})`
    }
    found.set(first, version ?? 'not installed')
    // Packages the first one depends on: look beside it in pnpm's store, then at the top level.
    let nodeModules
    try {
      const real = realpathSync(firstDir)
      nodeModules = first.startsWith('@') ? join(real, '..', '..') : join(real, '..')
    } catch {
      nodeModules = undefined
    }
    for (const pkg of rest) {
      if (found.has(pkg)) continue
      const topLevel = read(direct(pkg))
      const beside = nodeModules ? read(join(nodeModules, pkg)) : undefined
      const version2 = beside ?? topLevel
      found.set(pkg, version2 ? `${version2}${topLevel ? '' : ` (dependency of ${first})`}` : 'not installed')
    }
  }
  found.set('esbuild', read(direct('esbuild')) ?? 'not installed')
  return [...found.entries()]
}

/** @param {boolean} quick */
function method(quick) {
  const list = [
    `Run mode: ${quick ? 'quick (fewer rounds and ops; for CI-ish checks, noisier)' : 'full'}.`,
    'All in-process libraries run in one Node process, interleaved: each scenario runs rounds; in every round each library gets one slice, and the order rotates by one library per round, so drift on this noisy 2-core machine is spread over all of them. One unmeasured warm-up round comes first.',
    'The process runs with --expose-gc and collects garbage before every slice.',
    'Per library: the median of its slices, the spread (min .. max over measured rounds) and the ratio of its median to the baseline median. A ratio of 2.00x means twice the time of the baseline. Ratios are the comparable figures across machines; absolute ns depend on the CPU.',
    'Each benchmark loop is compiled separately per library (`new Function` with distinct source), so each call site stays monomorphic and no library pays for another\'s type feedback.',
    'Timing uses process.hrtime.bigint(). Hot-hit and cold-miss slices are sized in the warm-up round to a fixed duration per library (100+ ms, tens of thousands to millions of ops), so timer resolution is irrelevant; the op count of a library stays the same across its rounds.',
    'Other processes share this machine; the load average at the start and at the end of the run is recorded above (the processes of this run count in the latter). Interleaving makes such noise hit every library, and the spread column shows how much there was.',
    'Each adapter is checked while it is measured: returned values must belong to their key; hot hits must run the loader 0 times; cold misses exactly once per op; stampede and stale loader runs are counted, not assumed. A library failing a check is shown with the error instead of numbers.',
    'The edge (workerd) and browser (Chromium) scenarios run outside this process and describe their own method above their tables; they use the same rotating rounds, medians, spreads and ratios to a baseline measured in the same run.',
    'A target tiercache misses is listed under Targets with its reason; where the reason is a CPU profile, it was taken in this run (node --cpu-prof of the same workload in a child process).',
    'How each library is called:',
  ]
  for (const adapter of allAdapters) list.push(`  - ${adapter.label}: ${adapter.usage}`)
  return list
}
