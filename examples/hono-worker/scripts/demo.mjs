#!/usr/bin/env node
// Serves the demo: builds the page, starts `wrangler dev` on 127.0.0.1, waits until the Worker answers,
// then prints `tiercache demo: http://127.0.0.1:8787`. Ctrl-C (or SIGTERM) stops wrangler and its workerd.
//
//   node scripts/demo.mjs [--port 8787]     PORT and HOST work too; --port wins
//   node scripts/demo.mjs --exit-on-stdin-end   also stop when stdin ends (a test holding a pipe to it died)
//   node scripts/demo.mjs --log-level warn      wrangler's log level (warn: no line per request, as under load)
//   UPSTASH_REDIS_REST_URL=… UPSTASH_REDIS_REST_TOKEN=… node scripts/demo.mjs   L2 on Upstash instead of in memory
//   PRODUCT_SWR=1m node scripts/demo.mjs        every product's stale-while-revalidate window (default 10s)
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { buildPage } from './build-page.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const { values: args } = parseArgs({
  options: { port: { type: 'string' }, host: { type: 'string' }, 'exit-on-stdin-end': { type: 'boolean' }, 'log-level': { type: 'string' } },
  strict: false,
})
const host = String(args.host ?? process.env.HOST ?? '127.0.0.1')
const port = Number(args.port ?? process.env.PORT ?? 8787)
const READY_TIMEOUT_MS = 30_000

/** @param {string} message @returns {never} */
function fail(message) {
  process.stderr.write(`tiercache demo: ${message}\n`)
  process.exit(1)
}

if (!Number.isInteger(port) || port < 1 || port > 65_535) fail(`port must be an integer from 1 to 65535, got ${args.port ?? process.env.PORT}`)
await assertPortFree(host, port)
await buildPage({ quiet: true })

// A fresh state directory per run: the Cache API tier starts empty, like the in-memory origin and L2.
const state = mkdtempSync(join(tmpdir(), 'tiercache-demo-'))
const wranglerBin = join(dirname(createRequire(import.meta.url).resolve('wrangler/package.json')), 'bin', 'wrangler.js')
const vars = ['UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN', 'PRODUCT_SWR'].filter((name) => process.env[name])
const wrangler = spawn(
  process.execPath,
  [
    wranglerBin,
    'dev',
    ...['--ip', host, '--port', String(port), '--inspector-ip', '127.0.0.1', '--persist-to', state],
    '--show-interactive-dev-session=false',
    ...(typeof args['log-level'] === 'string' ? ['--log-level', args['log-level']] : []),
    ...vars.flatMap((name) => ['--var', `${name}:${process.env[name]}`]),
  ],
  {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      // wrangler reaches for the network three ways; a local demo needs none of them.
      WRANGLER_SEND_METRICS: process.env.WRANGLER_SEND_METRICS ?? 'false',
      WRANGLER_HIDE_BANNER: process.env.WRANGLER_HIDE_BANNER ?? 'true',
      CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? 'false',
    },
  },
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
if (await waitForWorker(url)) {
  const upstash = vars.includes('UPSTASH_REDIS_REST_URL') && vars.includes('UPSTASH_REDIS_REST_TOKEN') ? 'Upstash Redis' : 'in-memory (no UPSTASH_REDIS_REST_URL/TOKEN set)'
  process.stdout.write(`tiercache demo: ${url}\n`)
  process.stderr.write(`  edge L2: ${upstash}. Press Ctrl-C to stop.\n`)
} else if (!stopping) {
  process.stderr.write(`tiercache demo: the Worker did not answer at ${url} within ${READY_TIMEOUT_MS / 1000} s\n`)
  stop('SIGTERM')
}

/** Polls the Worker until it answers (wrangler prints "Ready" a moment before workerd serves). */
/** @param {string} base */
async function waitForWorker(base) {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline && !stopping) {
    try {
      const response = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(2_000) })
      if (response.ok) return true
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
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
