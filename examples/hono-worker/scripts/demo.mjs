#!/usr/bin/env node
// Serves the demo: builds the page, applies migrations/ to a fresh local D1 database, starts `wrangler dev` on
// 127.0.0.1, waits until the Worker answers, then prints `tiercache demo: http://127.0.0.1:8787` and the tiers the
// Worker picked. Ctrl-C (or SIGTERM) stops wrangler and its workerd.
//
//   node scripts/demo.mjs [--port 8787]     PORT and HOST work too; --port wins
//   node scripts/demo.mjs --l2 memory --coordinator local   pick the edge L2 (memory | kv | upstash) and the
//                                               coordinator (local | durable-object | upstash); TIERCACHE_L2 and
//                                               TIERCACHE_COORDINATOR work too. Default: from the bindings, i.e.
//                                               KV + the Durable Object, or Upstash for both when configured
//   node scripts/demo.mjs --exit-on-stdin-end   also stop when stdin ends (a test holding a pipe to it died)
//   node scripts/demo.mjs --log-level warn      wrangler's log level (warn: no line per request, as under load)
//   node scripts/demo.mjs --proxy-nudge-ms 0    no nudge of wrangler's proxy (default every 250 ms; see nudgeProxy)
//   UPSTASH_REDIS_REST_URL=… UPSTASH_REDIS_REST_TOKEN=… node scripts/demo.mjs   L2 on Upstash instead of in memory
//   PRODUCT_SWR=1m node scripts/demo.mjs        every product's stale-while-revalidate window (default 10s)
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { getFreePort } from '@tiercache/testkit'
import { buildPage } from './build-page.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'exit-on-stdin-end': { type: 'boolean' },
    'log-level': { type: 'string' },
    'proxy-nudge-ms': { type: 'string' },
    l2: { type: 'string' },
    coordinator: { type: 'string' },
  },
  strict: false,
})
const host = String(args.host ?? process.env.HOST ?? '127.0.0.1')
const port = Number(args.port ?? process.env.PORT ?? 8787)
// wrangler dev serves about 2 s after it starts on an idle machine; a loaded shared one takes many times that.
const READY_TIMEOUT_MS = 120_000
const nudgeMs = Number(args['proxy-nudge-ms'] ?? 250)

/** @param {string} message @returns {never} */
function fail(message) {
  process.stderr.write(`tiercache demo: ${message}\n`)
  process.exit(1)
}

if (!Number.isInteger(port) || port < 1 || port > 65_535) fail(`port must be an integer from 1 to 65535, got ${args.port ?? process.env.PORT}`)
if (!Number.isInteger(nudgeMs) || nudgeMs < 0) fail(`--proxy-nudge-ms must be a whole number of milliseconds (0: off), got ${args['proxy-nudge-ms']}`)
/** @type {Record<string, string>} */
const picked = {}
for (const [name, flag, kinds] of /** @type {const} */ ([
  ['TIERCACHE_L2', 'l2', ['memory', 'kv', 'upstash']],
  ['TIERCACHE_COORDINATOR', 'coordinator', ['local', 'durable-object', 'upstash']],
])) {
  const value = args[flag] ?? process.env[name]
  if (value === undefined || value === '') continue
  if (!(/** @type {readonly string[]} */ (kinds).includes(String(value)))) fail(`--${flag} must be one of ${kinds.join(', ')}, got ${value}`)
  picked[name] = String(value)
}
await assertPortFree(host, port)
await buildPage({ quiet: true })

// A fresh state directory per run: D1 is seeded anew, and the Cache API, KV and the Durable Object start empty, like
// the counters and an in-memory L2.
const state = mkdtempSync(join(tmpdir(), 'tiercache-demo-'))
const wranglerBin = join(dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin', 'wrangler.js')
const wranglerEnv = {
  ...process.env,
  // wrangler reaches for the network three ways; a local demo needs none of them.
  WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? 'false',
  WRANGLER_HIDE_BANNER: process.env.WRANGLER_HIDE_BANNER ?? 'true',
  CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? 'false',
}
// The products table and its rows, in the state directory only: nothing wrangler dev watches is written. wrangler
// records what it applied, so applying again to the same state changes nothing.
const MIGRATION_ATTEMPTS = 3
let migrated
for (let attempt = 1; ; attempt++) {
  migrated = spawnSync(process.execPath, [wranglerBin, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', state], {
    cwd: root,
    env: wranglerEnv, // with stdin not a terminal, wrangler asks no confirmation
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  })
  if (migrated.status === 0 || attempt === MIGRATION_ATTEMPTS) break
  // wrangler runs the SQL in a local workerd of its own, which failed once in a clean-clone CI run with an internal
  // assertion ("Migration 0001_products.sql failed ... false == true") that the runs before and after did not show:
  // try again on an emptied state directory, saying so.
  process.stderr.write(`tiercache demo: applying migrations/ failed (attempt ${attempt} of ${MIGRATION_ATTEMPTS}, exit code ${migrated.status}); trying again\n`)
  rmSync(state, { recursive: true, force: true })
  mkdirSync(state)
}
if (migrated.status !== 0) {
  rmSync(state, { recursive: true, force: true })
  fail(`applying migrations/ to the local D1 database failed (${migrated.error?.message ?? `exit code ${migrated.status}`})\n${migrated.stdout}${migrated.stderr}`)
}
process.stderr.write(`tiercache demo: D1 database seeded (${/0001_products\.sql/.test(migrated.stdout) ? 'migrations/0001_products.sql' : 'no migration pending'})\n`)
const vars = ['UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN', 'PRODUCT_SWR', 'ORIGIN_DELAY_MS'].filter((name) => process.env[name])
const wrangler = spawn(
  process.execPath,
  [
    wranglerBin,
    'dev',
    // A port of its own for the devtools inspector: wrangler's default (the first free from 9229) races with any other
    // wrangler dev starting at the same moment (tests start several), and one of them fails 'Address already in use'.
    ...['--ip', host, '--port', String(port), '--inspector-ip', '127.0.0.1', '--inspector-port', String(await getFreePort())],
    ...['--persist-to', state],
    '--show-interactive-dev-session=false',
    ...(typeof args['log-level'] === 'string' ? ['--log-level', args['log-level']] : []),
    ...vars.flatMap((name) => ['--var', `${name}:${process.env[name]}`]),
    ...Object.entries(picked).flatMap(([name, value]) => ['--var', `${name}:${value}`]),
  ],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: wranglerEnv },
)
wrangler.stdout.pipe(process.stderr)

let stopping = false
/** @param {NodeJS.Signals} signal */
function stop(signal) {
  if (stopping) return
  stopping = true
  wrangler.kill(signal)
  // wrangler stops workerd on SIGINT/SIGTERM; a wrangler that hangs is killed after 5 s.
  setTimeout(() => wrangler.kill('SIGKILL'), 5_000).unref()
}
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) process.on(signal, () => stop(signal === 'SIGHUP' ? 'SIGTERM' : signal))
// A parent that dies without passing its signal on (pnpm does that with SIGTERM) leaves this process
// re-parented: stop then too, rather than leave a Worker serving with nobody to stop it.
const parent = process.ppid
setInterval(() => {
  if (process.ppid !== parent) stop('SIGTERM')
}, 500).unref()
if (args['exit-on-stdin-end']) {
  process.stdin.on('end', () => stop('SIGTERM'))
  process.stdin.on('error', () => stop('SIGTERM'))
  process.stdin.resume()
}
wrangler.on('exit', (code, signal) => {
  rmSync(state, { recursive: true, force: true })
  if (!stopping) process.stderr.write(`tiercache demo: wrangler exited (${signal ?? `code ${code}`})\n`)
  process.exit(stopping ? 0 : (code ?? 1))
})

const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
const tiers = await waitForWorker(url)
if (tiers !== undefined) {
  if (nudgeMs > 0) nudgeProxy(url, nudgeMs)
  process.stdout.write(`tiercache demo: ${url}\n`)
  process.stderr.write(`  edge L2 ${tiers.l2}, coordinator ${tiers.coordinator} (--l2 / --coordinator pick others). Press Ctrl-C to stop.\n`)
} else if (!stopping) {
  process.stderr.write(`tiercache demo: the Worker did not answer at ${url} within ${READY_TIMEOUT_MS / 1000} s\n`)
  stop('SIGTERM')
}

/**
 * Polls the Worker until it answers (wrangler prints "Ready" a moment before workerd serves); resolves with the tiers
 * it picked, or undefined when it did not answer in time.
 * @param {string} base
 * @returns {Promise<{ l2: string, coordinator: string } | undefined>}
 */
async function waitForWorker(base) {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline && !stopping) {
    try {
      const response = await fetch(`${base}/api/stats`, { signal: AbortSignal.timeout(5_000) })
      if (response.ok) return /** @type {{ tiers: { l2: string, coordinator: string } }} */ (await response.json()).tiers
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return undefined
}

/**
 * Sends wrangler's proxy a request every `everyMs` while the demo runs. wrangler dev (4.86) serves the Worker through a
 * proxy Worker of its own (its ProxyWorker, in a second workerd). When forwarding a GET or HEAD to our Worker fails
 * (a keep-alive connection between the two workerd processes lost as the request is written: "Network connection
 * lost"; 1 to 2 per 100 requests at load average 15), the proxy parks the request for a retry, and retries only when
 * the next request reaches it: it takes every such failure for a Worker reload, because it compares the forwarded URL,
 * path included, with the Worker's bare origin. A request parked by the last requests of a burst, with none after
 * it, waits until its client gives up (30 s in the load test, which saw up to 21 per run), without ever reaching the
 * Worker. This request runs the retry within `everyMs`. Paths under /cdn-cgi/ are not logged by wrangler, and
 * the Worker never sees them (the static assets answer 404).
 * @param {string} base
 * @param {number} everyMs
 */
function nudgeProxy(base, everyMs) {
  const nudge = `${base}/cdn-cgi/tiercache-demo/nudge`
  setInterval(() => {
    fetch(nudge, { signal: AbortSignal.timeout(10_000) })
      // Read to the end: a body left unread makes workerd log a Broken pipe when the connection closes.
      .then((response) => response.arrayBuffer())
      .catch(() => {}) // a nudge parked or lost itself is run by the next one
  }, everyMs).unref()
}

/** @param {string} hostname @param {number} portNumber */
async function assertPortFree(hostname, portNumber) {
  await new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', (/** @type {NodeJS.ErrnoException} */ error) => {
      if (error.code === 'EADDRINUSE') fail(`${hostname}:${portNumber} is in use: stop what runs there, or pass --port <n> (or set PORT)`)
      else fail(`cannot listen on ${hostname}:${portNumber}: ${error.message}`)
    })
    probe.listen(portNumber, hostname, () => probe.close(resolve))
  })
}
