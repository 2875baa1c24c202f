// Runs in Node once per test run, before the e2e files start the demo: installs the workspace and builds the demo
// (`node scripts/run.mjs build-demo`, what `npm run demo` does before serving), then sets TIERCACHE_DEMO_BUILT=1 so
// that every demo started in this run (startDemo: tiers, page and load tests) only serves. Installing and building
// at each start took over 60 s on a loaded machine, five times per run. Under `npm test` it does nothing: that run
// installed the workspace and its turbo built the demo before this package's tests (turbo.json), and sets the flag.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

export default function setup(): void {
  if (process.env.TIERCACHE_DEMO_BUILT === '1') return
  const started = Date.now()
  const built = spawnSync(process.execPath, ['scripts/run.mjs', 'build-demo'], { cwd: repoRoot, stdio: 'inherit' })
  if (built.status !== 0) throw new Error(`node scripts/run.mjs build-demo failed (${built.error?.message ?? `exit code ${built.status}`})`)
  process.env.TIERCACHE_DEMO_BUILT = '1'
  console.info(`[demo] installed and built in ${((Date.now() - started) / 1000).toFixed(1)} s, once for this run`)
}
