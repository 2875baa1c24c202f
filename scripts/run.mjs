#!/usr/bin/env node
// The README's commands on a fresh machine that has only Node 20 and npm:
//   npm test           installs pnpm and the workspace, installs redis-server, memcached and chromium when missing,
//                      then builds, type-checks and runs every package's tests (test setups start and stop
//                      their own redis-server and Upstash endpoint on 127.0.0.1), then the consumer test
//                      (tools/consumer: the packed packages on Node, Bun and Deno)
//   npm run demo       installs, builds and serves the demo Worker (prints its URL)
//                      (`node scripts/run.mjs build-demo`: installs and builds only, as the demo's e2e tests do once)
//   npm run bench      installs, builds and runs the benchmarks (pass --quick for a short run)
// Only Node built-ins are used before the workspace is installed.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const PNPM_VERSION = '10.34.9'
const [command = 'test', ...rest] = process.argv.slice(2)

const env = {
  ...process.env,
  // No network beyond the npm registry and apt here: keep wrangler and turbo from reaching out.
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
}

function log(message) {
  process.stderr.write(`[tiercache] ${message}\n`)
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit', ...options })
  if (result.error) throw result.error
  return result.status ?? 1
}

function must(cmd, args, options) {
  const status = run(cmd, args, options)
  if (status !== 0) {
    log(`${cmd} ${args.join(' ')} failed with exit code ${status}`)
    process.exit(status)
  }
}

/** pnpm of the pinned version on PATH, or installed into .cache/tools with npm (corepack does not work here). */
function ensurePnpm() {
  const onPath = spawnSync('pnpm', ['--version'], { env, encoding: 'utf8' })
  if (onPath.status === 0 && onPath.stdout.trim() === PNPM_VERSION) return
  const tools = join(root, '.cache', 'tools')
  const bin = join(tools, 'node_modules', '.bin')
  if (!existsSync(join(bin, 'pnpm'))) {
    log(`installing pnpm ${PNPM_VERSION} into .cache/tools`)
    mkdirSync(tools, { recursive: true })
    must('npm', ['install', '--prefix', tools, '--no-audit', '--no-fund', '--loglevel=error', `pnpm@${PNPM_VERSION}`])
  }
  env.PATH = `${bin}${delimiter}${env.PATH ?? ''}`
}

function install() {
  ensurePnpm()
  must('pnpm', ['install', '--frozen-lockfile', '--prefer-offline'])
}

async function testkit() {
  return import(pathToFileURL(join(root, 'tools', 'testkit', 'src', 'index.mjs')).href)
}

/**
 * Runs a command to completion, then `cleanup`. The command gets its own process group, and an interrupt of this
 * process goes to that whole group: pnpm does not pass SIGTERM on to the script it runs.
 */
function runWithCleanup(cmd, args, cleanup) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: 'inherit', detached: process.platform !== 'win32' })
    const stop = (signal) => {
      try {
        process.kill(process.platform === 'win32' ? child.pid : -child.pid, signal)
      } catch {
        child.kill(signal)
      }
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    // npm, killed with SIGTERM, takes down the shell between it and this process but not this one: a new parent
    // means nobody is waiting any more.
    const parent = process.ppid
    const orphaned = setInterval(() => {
      if (process.ppid !== parent) stop('SIGTERM')
    }, 500)
    orphaned.unref()
    child.on('exit', async (code, signal) => {
      clearInterval(orphaned)
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      await cleanup()
      resolve(code ?? (signal ? 1 : 0))
    })
  })
}

async function test() {
  const started = Date.now()
  install()
  const kit = await testkit()
  // Installed once here, so that parallel test packages do not race apt.
  await kit.ensureRedisServer()
  await kit.ensureMemcached()
  await kit.ensureChromium()
  env.CHROMIUM_PATH ??= kit.findChromium()
  // Each package's vitest globalSetup starts its own redis-server + Upstash endpoint on 127.0.0.1 (about 40 ms)
  // and stops it, so packages running in parallel never see each other's data, faults or request counts.
  delete env.UPSTASH_TEST_URL
  delete env.UPSTASH_TEST_TOKEN
  // This run installed the workspace, and its turbo builds the demo before the demo's tests (examples/hono-worker
  // turbo.json): their global setup must not start a second install and turbo build inside this one.
  env.TIERCACHE_DEMO_BUILT = '1'
  let code = await runWithCleanup(
    'pnpm',
    ['exec', 'turbo', 'run', 'build', 'typecheck', 'publint', 'test', '--output-logs=full', '--concurrency=2', ...rest],
    async () => {},
  )
  // The consumer test: the packed packages installed with npm outside the workspace, type-checked and run on
  // Node, Bun and Deno (tools/consumer). After turbo, so that it finds every package built, new ones included.
  if (code === 0 && rest.length === 0) {
    log('consumer test (tools/consumer)')
    code = await runWithCleanup('node', [join('tools', 'consumer', 'src', 'run.mjs'), '--no-build'], async () => {})
  }
  log(`${code === 0 ? 'all tests passed' : 'tests FAILED'} in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  process.exit(code)
}

/** The Worker + page demo when it exists, else the core examples. */
function demoTarget() {
  return existsSync(join(root, 'examples', 'hono-worker', 'package.json'))
    ? { name: '@tiercache/example-hono-worker', script: 'demo' }
    : { name: '@tiercache/example-core-basic', script: 'start' }
}

/** Installs the workspace and builds the demo with what it uses. */
async function buildDemo() {
  install()
  must('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', `--filter=${demoTarget().name}...`])
}

async function demo() {
  const target = demoTarget()
  // TIERCACHE_DEMO_BUILT=1: this run installed and built it already (`build-demo`, once per e2e test run: a start
  // that installs and builds each time took over a minute on a loaded machine).
  if (process.env.TIERCACHE_DEMO_BUILT === '1') ensurePnpm()
  else await buildDemo()
  process.exit(await runWithCleanup('pnpm', ['--filter', target.name, 'run', target.script, ...rest], async () => {}))
}

async function bench() {
  install()
  must('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only', '--filter=@tiercache/bench...'])
  process.exit(await runWithCleanup('pnpm', ['--filter', '@tiercache/bench', 'run', 'bench', ...rest], async () => {}))
}

const commands = { test, demo, 'build-demo': buildDemo, bench }
if (!(command in commands)) {
  log(`unknown command ${command}: use ${Object.keys(commands).join(', ')}`)
  process.exit(2)
}
await commands[command]()
