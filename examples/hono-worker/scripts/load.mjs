#!/usr/bin/env node
// The demo Worker under concurrent load and faults: before / during / after each fault, how many requests
// failed, how many the Workers runtime cancelled, latency, hit rate, database queries, and how fast the hit rate
// came back. Used by test/load.e2e.test.ts (CI: `npm test`) and by the benchmarks (`npm run bench`).
//
//   node scripts/load.mjs [--requests 3000] [--concurrency 50] [--l2 memory,upstash] [--faults origin-down,...]
//                         [--json] [--log-dir <dir>: the Worker's log of each run, worker-<l2>.log]
//
// Each L2 gets its own demo (started as `npm run demo` starts it: wrangler dev on 127.0.0.1, a free port); the
// Upstash one talks to testkit's Upstash endpoint over a redis-server of its own, both on 127.0.0.1, which this
// script faults: the endpoint answers 500, the endpoint answers slower than the timeout, redis-server is killed
// and restarted (with its data, as a durable Upstash database comes back). The origin (the demo's database) is
// switched off and on through its API.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { setPriority, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startRedis } from '@tiercache/testkit'
import { startDemo } from './start-demo.mjs'

/** Products of the demo: ids 1..50. */
export const PRODUCTS = 50
/** Fresh lifetime of a product in the demo (productPolicy.ttl). */
export const TTL_MS = 10_000
/** The demo's tier timeout and Redis client timeout (createEdgeCache's defaults). */
export const TIER_TIMEOUT_MS = 1_000
/** The demo database answers within 150-250 ms. */
export const ORIGIN_MAX_MS = 250
/** How long a slow endpoint takes to answer: many times the timeout, so that waiting for it would show. */
export const SLOW_ENDPOINT_MS = 10_000

/** @typedef {'memory' | 'upstash'} L2 */
/** @typedef {'none' | 'endpoint-500' | 'endpoint-slow' | 'redis-restart' | 'origin-down'} FaultName */

/**
 * @typedef {object} PhaseResult
 * @property {string} l2
 * @property {FaultName} fault
 * @property {'warm-up' | 'before' | 'during' | 'after'} stage
 * @property {number} requests     requests answered or failed in this phase
 * @property {number} reached  requests that reached the Worker's code during the phase, by its own count: fewer than
 *   `requests` means some were held or lost in front of it (wrangler dev's proxy, workerd's connections)
 * @property {number} failed       not a 200 with the expected body (5xx, network errors, timeouts)
 * @property {number} failedJoined  of the failed answers, those of product requests that joined another request's load
 *   (Cache-Status `collapsed`): they share that load's failure, and the one cause behind it
 * @property {number} partial      batch answers (200) that listed products as `unavailable`: no copy in any tier
 *   and the database failing, so nothing could answer for them (the other products of the batch did answer)
 * @property {number} cancellations  "The Workers runtime canceled this request ..." lines in the Worker's log
 * @property {number} crossContext   "promise was resolved or rejected from a different request context" warnings
 * @property {number} oldWork  "tiercache: shared work for key ... has run" warnings: shared work past 10 s (core flight.ts)
 * @property {number} slow  requests answered (or given up on) after more than 10 s
 * @property {string[]} slowSamples  the first of those: when sent, path, status, ms, and whether the request went
 *   on a keep-alive connection already used (a stuck request on reused connections only points below the Worker)
 * @property {number} p99Single  ms, GET /api/products/:id only
 * @property {number} p99Batch  ms, GET /api/products?ids= only (0 when the phase had none)
 * @property {number} p50  ms
 * @property {number} p99  ms
 * @property {number} max  ms
 * @property {number} hitRate  share of product answers whose Cache-Status says `hit` (0..1)
 * @property {number} dbQueries  queries that reached the database (failed ones included)
 * @property {number[]} tierErrors  per edge tier (L1, L2), calls that failed or timed out
 * @property {boolean} restarted  the Worker's isolate changed during the phase (wrangler reloaded it): every
 *   in-memory state (L2, database counters) was lost, which is not something the cache did
 * @property {number} durationMs
 * @property {number | undefined} recoveryMs  after a fault: ms from its end to the first of the product requests
 *   sent from which on, every 50 in a row have a hit rate within 5 points of the `before` phase (undefined when
 *   that never happened within the time the run waited)
 * @property {number[] | undefined} lateTierErrors  after a fault: per edge tier, the calls that failed or timed out
 *   from 5 s after it ended to the end of the phase. Under heavy machine load the L2 stand-in (testkit's endpoint, a
 *   process on this machine) can answer after the 1 s timeout with no fault at all; each such read is a miss
 * @property {number | undefined} hitRateAfter5s  after a fault: the hit rate of the product requests sent 5 s or more
 *   after it ended
 * @property {Record<string, number>} statuses  count per status code ('error' for network failures)
 * @property {Record<string, number>} cacheStatuses  count per Cache-Status of product answers (ttl left out)
 * @property {string[]} samples  a few failed answers (path, status, Cache-Status, body), for messages
 * @property {string[]} misses  after a fault, the first product requests that missed: when they were sent, what
 */

/**
 * @typedef {object} LoadOptions
 * @property {number} [requests]  at least this many requests per L2 (default 3000)
 * @property {number} [concurrency]  requests in flight (default 50)
 * @property {L2[]} [l2]  (default both)
 * @property {number} [beforeMs]  length of each `before` phase (default 1500)
 * @property {number} [duringMs]  length of each fault (default 4000: past the demo's 3 s L1 lifetime, so that
 *   every key is read from L2 at least once while it fails)
 * @property {string} [productSwr]  the demo's PRODUCT_SWR (default: the demo's own 10 s)
 * @property {boolean} [longOutage]  keep the database down for the products' ttl + 2 s, past their fresh lifetime, so
 *   that refreshes fail and the stale copies answer (default false: the copies are fresh for the whole fault)
 * @property {number} [recoveryWaitMs]  how long the `after` phase lasts (default 10000)
 * @property {(line: string) => void} [log]
 * @property {Record<string, string>} [demoEnv]  extra environment for the demo
 * @property {(l2: string, output: string) => void} [onOutput]  gets the Worker's whole log when its demo stops
 * @property {FaultName[]} [faults]  only these faults (default: every one that applies to the L2)
 */

/**
 * Runs the scenario against a fresh demo per L2 and returns every phase.
 * @param {LoadOptions} [options]
 * @returns {Promise<{ phases: PhaseResult[], totals: Record<string, { requests: number, reached: number, failed: number, partial: number, cancellations: number, crossContext: number, oldWork: number, slow: number }> }>}
 */
export async function runLoad(options = {}) {
  const { requests = 3000, concurrency = 50, l2: modes = ['memory', 'upstash'], log = () => {} } = options
  /** @type {PhaseResult[]} */
  const phases = []
  /** @type {Record<string, { requests: number, reached: number, failed: number, partial: number, cancellations: number, crossContext: number, oldWork: number, slow: number }>} */
  const totals = {}
  // testkit's redis-server child does not hold the event loop open: awaiting its exit would otherwise end this
  // process (exit code 13) when nothing else is left.
  const keepAlive = setInterval(() => {}, 1_000)
  try {
    for (const mode of modes) await runOne(mode)
  } finally {
    clearInterval(keepAlive)
  }
  return { phases, totals }

  /** @param {L2} mode */
  async function runOne(mode) {
    const results = mode === 'upstash' ? await withUpstash((services) => runMode(mode, services, options)) : await runMode(mode, undefined, options)
    phases.push(...results)
    totals[mode] = {
      requests: sum(results, 'requests'),
      reached: sum(results, 'reached'),
      failed: sum(results, 'failed'),
      partial: sum(results, 'partial'),
      cancellations: sum(results, 'cancellations'),
      crossContext: sum(results, 'crossContext'),
      oldWork: sum(results, 'oldWork'),
      slow: sum(results, 'slow'),
    }
    log(
      `${mode}: ${totals[mode].requests} requests (${totals[mode].reached} reached the Worker), ${totals[mode].failed} failed, ${totals[mode].cancellations} cancelled by the runtime, ` +
        `${totals[mode].crossContext} cross-request promise warnings, ${totals[mode].partial} partial batch answers, ` +
        `${totals[mode].slow} answers after 10 s, ${totals[mode].oldWork} shared-work warnings, p99 ${Math.round(Math.max(...results.map((/** @type {PhaseResult} */ r) => r.p99)))} ms (worst phase)`,
    )
    for (const r of results) for (const line of r.slowSamples) log(`${mode}: slow answer in ${r.fault}/${r.stage}, ${line}`)
  }

  /**
   * @param {L2} mode
   * @param {Services | undefined} services
   * @param {LoadOptions} options
   */
  async function runMode(mode, services, { beforeMs = 1_500, duringMs = 4_000, recoveryWaitMs = 10_000, demoEnv = {}, onOutput, faults: only, longOutage = false, productSwr }) {
    /** @type {Record<string, string>} */
    // The memory run picks the in-memory L2 and the in-process coordinator explicitly: from its bindings alone the
    // demo would pick Workers KV + the Durable Object. (With the Upstash variables it picks Upstash for both.)
    const env =
      services === undefined
        ? { TIERCACHE_L2: 'memory', TIERCACHE_COORDINATOR: 'local' }
        : { UPSTASH_REDIS_REST_URL: services.upstash.url, UPSTASH_REDIS_REST_TOKEN: services.upstash.token }
    const demo = await startDemo({ env: { ...demoEnv, ...env, ...(productSwr === undefined ? {} : { PRODUCT_SWR: productSwr }) }, external: false })
    log(`${mode}: demo at ${demo.url} after ${(demo.startupMs / 1000).toFixed(1)} s`)
    const driver = createDriver(demo, concurrency)
    /** @type {PhaseResult[]} */
    const results = []
    try {
      /** @type {FaultName[]} */
      const applicable = mode === 'upstash' ? ['endpoint-500', 'endpoint-slow', 'redis-restart', 'origin-down'] : ['origin-down']
      const faults = applicable.filter((fault) => only === undefined || only.includes(fault))
      // Every product loaded once, as a response and as data.
      const ids = Array.from({ length: PRODUCTS }, (_, i) => i + 1)
      const warmPaths = [...ids.map((id) => `/api/products/${id}`), `/api/products?ids=${ids.join(',')}`]
      for (const fault of faults) {
        // Fresh copies of every product in every tier (a restarted redis-server lost them, a fault before kept
        // them from being refreshed), so that the fault has copies to fall back on and none about to age out.
        results.push(...(await warmUp(mode, fault, demo.url, driver, warmPaths, log)))
        const before = await driver.phase(mode, fault, 'before', { ms: beforeMs })
        results.push(before)
        const end = await startFault(fault, demo.url, services)
        // With longOutage the database stays down past the products' ttl: their refreshes fail, stale copies answer.
        results.push(await driver.phase(mode, fault, 'during', { ms: fault === 'origin-down' && longOutage ? Math.max(duringMs, TTL_MS + 2_000) : duringMs }))
        await end()
        const ended = performance.now()
        const { hits, ...after } = await driver.phase(mode, fault, 'after', { ms: recoveryWaitMs, since: ended })
        results.push({ ...after, ...recovery(hits, before.hitRate - 0.05) })
        log(`${mode}: ${fault} done`)
      }
      const done = sum(results, 'requests')
      if (done < requests) results.push(await driver.phase(mode, 'none', 'after', { count: requests - done }))
      return results
    } finally {
      driver.close()
      await demo.stop()
      onOutput?.(mode, demo.output())
    }
  }
}

/**
 * @typedef {object} Services
 * @property {import('@tiercache/testkit').RedisServer} redis  replaced when the fault restarts it
 * @property {Endpoint} upstash
 * @property {string} dir  where redis-server keeps its data
 */

/**
 * @typedef {object} Endpoint  testkit's Upstash endpoint, run by scripts/upstash-endpoint.mjs in a child process
 * @property {string} url
 * @property {string} token
 * @property {(fault: import('@tiercache/testkit').Fault) => Promise<void>} setFault
 * @property {() => Promise<void>} stop
 */

/**
 * @template T
 * @param {(services: Services) => Promise<T>} body
 * @returns {Promise<T>}
 */
async function withUpstash(body) {
  // Durable, as Upstash is: killed and started again, redis-server comes back with its data (append-only file,
  // synced on every write, in a directory of its own that outlives the process).
  const dir = mkdtempSync(join(tmpdir(), 'tiercache-load-redis-'))
  const redis = await startRedis({ args: durableRedis(dir) })
  asRemote(redis.pid)
  /** @type {Services} */
  const services = { redis, upstash: await startEndpoint(redis.url), dir }
  try {
    return await body(services)
  } finally {
    await services.upstash.stop()
    await services.redis.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * @param {string} redisUrl
 * @returns {Promise<Endpoint>}
 */
async function startEndpoint(redisUrl) {
  const script = fileURLToPath(new URL('./upstash-endpoint.mjs', import.meta.url))
  const child = spawn(process.execPath, [script, redisUrl], { stdio: ['pipe', 'pipe', 'inherit'] })
  asRemote(/** @type {number} */ (child.pid))
  const exited = new Promise((resolve) => child.once('exit', resolve))
  /** @type {Record<string, string>} */
  const env = await new Promise((resolve, reject) => {
    let out = ''
    child.once('exit', (code) => reject(new Error(`the Upstash endpoint exited (code ${code}) before it was ready`)))
    child.stdout.on('data', (chunk) => {
      out += chunk
      if (/^ready$/m.test(out)) resolve(Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])))
    })
  })
  const url = /** @type {string} */ (env.UPSTASH_URL)
  const token = /** @type {string} */ (env.UPSTASH_TOKEN)
  return {
    url,
    token,
    async setFault(fault) {
      const response = await fetch(`${url}/__testkit/fault`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(fault) })
      if (!response.ok) throw new Error(`setting the fault answered ${response.status}: ${await response.text()}`)
    },
    async stop() {
      child.stdin.end()
      await exited
    },
  }
}

/**
 * The Upstash stand-in (testkit's endpoint and its redis-server) plays a service on machines of its own, which the
 * load on this one does not slow down. On a busy shared machine it is starved like any process (answers past the
 * 1 s client timeout with no fault at all: every L2 read a miss), and the run would measure the machine, not the
 * cache. So it runs ahead of the load where this process may raise a priority (root or CAP_SYS_NICE), as its own
 * machine would; elsewhere it is left as it is.
 * @param {number} pid
 */
function asRemote(pid) {
  try {
    setPriority(pid, -10)
  } catch {
    // not allowed here: the stand-in competes with the load, as before
  }
}

/** redis-server arguments that keep every write in `dir` (later arguments win over testkit's own). @param {string} dir */
function durableRedis(dir) {
  return ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always']
}

/**
 * Starts a fault; resolves to the function that ends it.
 * @param {FaultName} fault
 * @param {string} url
 * @param {Services | undefined} services
 * @returns {Promise<() => Promise<void>>}
 */
async function startFault(fault, url, services) {
  const upstash = () => /** @type {Services} */ (services).upstash
  switch (fault) {
    case 'endpoint-500':
      await upstash().setFault({ mode: 'error500' })
      return () => upstash().setFault({ mode: 'ok' })
    case 'endpoint-slow':
      await upstash().setFault({ mode: 'slow', delayMs: SLOW_ENDPOINT_MS })
      return () => upstash().setFault({ mode: 'ok' })
    case 'redis-restart': {
      // Killed now, started again (empty: no persistence) when the fault ends.
      const running = /** @type {Services} */ (services)
      const port = running.redis.port
      await running.redis.stop()
      return async () => {
        running.redis = await startRedis({ port, args: durableRedis(running.dir) })
        asRemote(running.redis.pid)
      }
    }
    case 'origin-down':
      await setOrigin(url, true)
      return () => setOrigin(url, false)
    default:
      return async () => {}
  }
}

/** @param {string} url @param {boolean} failing */
async function setOrigin(url, failing) {
  const response = await fetch(`${url}/api/origin/fail`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ failing }) })
  if (!response.ok) throw new Error(`POST /api/origin/fail answered ${response.status}`)
  await response.body?.cancel()
}

/**
 * Database queries so far, per edge tier the errors (failed or timed-out calls) so far, the isolate's id, and the
 * requests under /api/ that reached the Worker so far (this one included).
 * @param {string} url
 * @returns {Promise<{ queries: number, tierErrors: number[], isolate: string, received: number }>}
 */
async function workerStats(url) {
  const response = await fetch(`${url}/api/stats`)
  const stats = /** @type {{ origin: { total: number }, cache: { tiers: { errors: number }[] }, isolate: string, requests: { received: number } }} */ (
    await response.json()
  )
  return { queries: stats.origin.total, tierErrors: stats.cache.tiers.map((tier) => tier.errors), isolate: stats.isolate, received: stats.requests.received }
}

/**
 * The warm-up before a fault: every product renewed (renewAll), then loaded once as a response and as data. Its
 * precondition for the fault is that each copy reached every tier; a tier call that failed or timed out while the
 * copies were loaded and written (the writes run in the background, bounded by the tier timeout: waited for here)
 * may have left a product in L1 alone, which outlives no fault past L1's 3 s. On a starved machine (the L2 stand-in
 * answering after its 1 s timeout) the warm-up is then done again, up to 3 times in all: it is the run's setup, not
 * what it measures. Returns every warm-up phase run.
 * @param {string} mode
 * @param {FaultName} fault
 * @param {string} url
 * @param {ReturnType<typeof createDriver>} driver
 * @param {string[]} paths
 * @param {(line: string) => void} log
 * @returns {Promise<PhaseResult[]>}
 */
async function warmUp(mode, fault, url, driver, paths, log) {
  /** @type {PhaseResult[]} */
  const phases = []
  for (let attempt = 1; ; attempt++) {
    const before = await workerStats(url)
    await renewAll(url)
    phases.push(await driver.phase(mode, fault, 'warm-up', { paths }))
    await new Promise((resolve) => setTimeout(resolve, 2 * TIER_TIMEOUT_MS))
    const errors = (await workerStats(url)).tierErrors.map((n, i) => n - (before.tierErrors[i] ?? 0))
    if (errors.every((n) => n === 0) || attempt === 3) {
      if (attempt > 1 || errors.some((n) => n > 0)) log(`${mode}: ${fault} warm-up ${attempt}: ${errors.join('/')} tier errors (L1/L2)`)
      return phases
    }
    log(`${mode}: ${fault} warm-up ${attempt}: ${errors.join('/')} tier errors (L1/L2), some copies may be missing from a tier: warming up again`)
  }
}

/**
 * Every product gets a new price, which invalidates its tag in every tier (POST /api/products/:id): the warm-up
 * that follows loads fresh copies, so that no fault starts with copies about to age out. This is the run's setup,
 * not what it measures: a change answered 5xx (the invalidation's 1 s Redis timeout, passed on a loaded machine: seen
 * at the run's first change, which took 4.9 s) is sent again, up to 3 times.
 * @param {string} url
 */
async function renewAll(url) {
  for (let from = 1; from <= PRODUCTS; from += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, PRODUCTS - from + 1) }, async (_, i) => {
        const path = `/api/products/${from + i}`
        for (let attempt = 1; ; attempt++) {
          const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
          const text = await response.text()
          if (response.ok) return
          if (response.status < 500 || attempt === 3) throw new Error(`POST ${path} answered ${response.status} (attempt ${attempt}): ${text.slice(0, 200)}`)
        }
      }),
    )
  }
}

/**
 * The load: `concurrency` keep-alive connections, each sending its next request as soon as the previous answer
 * was read. Nine in ten requests are `GET /api/products/:id` (whole responses cached by tiercache()); one in
 * ten is a batch `GET /api/products?ids=a,b,c` (getManyOrSet on c.var.cache). Ids are uniform over the 50
 * products, from a seeded generator.
 * @param {import('./start-demo.mjs').Demo} demo
 * @param {number} concurrency
 */
function createDriver(demo, concurrency) {
  const { port } = new URL(demo.url)
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  const random = seeded(9)
  const id = () => 1 + Math.floor(random() * PRODUCTS)

  /**
   * @param {string} path
   * @param {boolean} [retried]
   * @returns {Promise<{ status: number | 'error', ms: number, hit: boolean | undefined, ok: boolean, partial: boolean, text: string, cacheStatus: string | undefined, reused: boolean }>}
   */
  function get(path, retried = false) {
    return new Promise((resolve) => {
      const start = performance.now()
      const single = !path.includes('?')
      const done = (/** @type {number | 'error'} */ status, /** @type {string} */ text, /** @type {string | undefined} */ cacheStatus) => {
        const batch = status === 200 && !single ? batchAnswer(path, text) : undefined
        const ok = status === 200 && (single ? text.startsWith('{"id":') : batch !== undefined)
        const reused = request.reusedSocket
        resolve({ status, ms: performance.now() - start, hit: single ? /^edge; hit/.test(cacheStatus ?? '') : undefined, ok, partial: batch === 'partial', text, cacheStatus, reused })
      }
      const request = http.get({ host: '127.0.0.1', port, path, agent }, (response) => {
        /** @type {Buffer[]} */
        const chunks = []
        response.on('data', (chunk) => chunks.push(chunk))
        response.on('end', () => done(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), /** @type {string | undefined} */ (response.headers['cache-status'])))
        response.on('error', (error) => done('error', String(error), undefined))
      })
      request.on('error', (error) => {
        // A keep-alive connection the server closed while idle (between phases) fails the next request sent on
        // it before any answer: sent again on a new connection, as browsers do (RFC 9112 §9.3.1).
        if (request.reusedSocket && !retried && /** @type {NodeJS.ErrnoException} */ (error).code === 'ECONNRESET') {
          get(path, true).then(resolve)
          return
        }
        done('error', String(error), undefined)
      })
      request.setTimeout(30_000, () => request.destroy(new Error('no answer within 30 s')))
    })
  }

  return {
    /**
     * One phase: a number of requests, a duration, or (after a fault) until the hit rate of a batch of 100 is back.
     * @param {string} l2
     * @param {FaultName} fault
     * @param {PhaseResult['stage']} stage
     * @param {{ count?: number, paths?: string[], ms?: number, since?: number }} until
     * @returns {Promise<PhaseResult & { hits: [sentMs: number, hit: boolean][] }>}
     */
    async phase(l2, fault, stage, until) {
      const { hits, ...result } = await this.run(l2, fault, stage, until)
      // The requests' hits are only kept where recovery is judged: after a fault.
      return until.since === undefined ? { ...result, hits: [] } : { ...result, hits }
    },
    /**
     * @param {string} l2
     * @param {FaultName} fault
     * @param {PhaseResult['stage']} stage
     * @param {{ count?: number, paths?: string[], ms?: number, since?: number }} until
     * @returns {Promise<PhaseResult & { hits: [sentMs: number, hit: boolean][] }>}
     */
    async run(l2, fault, stage, until) {
      const logAt = demo.output().length
      const statsAt = await workerStats(demo.url)
      const started = performance.now()
      /** @type {number[]} */
      const latencies = []
      /** @type {number[]} */
      const singleLatencies = []
      /** @type {number[]} */
      const batchLatencies = []
      /** @type {Record<string, number>} */
      const statuses = {}
      /** @type {Record<string, number>} */
      const cacheStatuses = {}
      /** @type {string[]} */
      const samples = []
      /** @type {string[]} */
      const misses = []
      /** @type {string[]} */
      const slowSamples = []
      let sent = 0
      let failed = 0
      let partial = 0
      let failedJoined = 0
      let hitCount = 0
      let singles = 0
      const paths = until.paths
      /** @type {[number, boolean][]} product requests: when each was sent (ms after `since`) and whether it hit */
      const hits = []
      const since = until.since ?? started
      const more = () => {
        if (paths !== undefined) return sent < paths.length
        if (until.count !== undefined) return sent < until.count
        return performance.now() - started < (until.ms ?? 0)
      }
      const worker = async () => {
        while (more()) {
          const path = paths?.[sent] ?? (random() < 0.1 ? `/api/products?ids=${id()},${id()},${id()}` : `/api/products/${id()}`)
          sent++
          const sentMs = performance.now() - since
          const answer = await get(path)
          latencies.push(answer.ms)
          if (answer.ms > 10_000 && slowSamples.length < 50) {
            slowSamples.push(`sent at ${Math.round(sentMs)} ms: ${path} ${answer.status} after ${Math.round(answer.ms)} ms, ${answer.reused ? 'reused' : 'new'} connection`)
          }
          ;(path.includes('?') ? batchLatencies : singleLatencies).push(answer.ms)
          const key = String(answer.status)
          statuses[key] = (statuses[key] ?? 0) + 1
          if (answer.partial) partial++
          if (!answer.ok) {
            failed++
            if (answer.hit !== undefined && joinedLoad(answer.cacheStatus)) failedJoined++
            // With its Cache-Status: a leader whose load failed (`not-stored:error`) or a request that joined it (`collapsed`).
            if (samples.length < 5) samples.push(`${path}: ${answer.status} [${answer.cacheStatus ?? 'no Cache-Status'}] ${answer.text.slice(0, 160)}`)
          }
          if (answer.hit !== undefined) {
            const label = (answer.cacheStatus ?? 'none').replace(/; ttl=-?\d+/, '')
            cacheStatuses[label] = (cacheStatuses[label] ?? 0) + 1
            singles++
            if (answer.hit) hitCount++
            else if (until.since !== undefined && misses.length < 200) misses.push(`${Math.round(sentMs)} ms ${path}: ${answer.cacheStatus}`)
            hits.push([sentMs, answer.hit])
          }
        }
      }
      // After a fault: the tiers' errors from 5 s after it on (the stats request is not one of the phase's).
      /** @type {Promise<{ tierErrors: number[] } | undefined> | undefined} */
      let lateStats
      const lateTimer =
        until.since === undefined
          ? undefined
          : setTimeout(() => {
              lateStats = workerStats(demo.url).catch(() => undefined)
            }, Math.max(0, until.since + 5_000 - performance.now()))
      await Promise.all(Array.from({ length: concurrency }, worker))
      clearTimeout(lateTimer)
      const late = await lateStats
      const durationMs = performance.now() - started
      // Log lines of requests of this phase can trail its last answer by a moment.
      await new Promise((resolve) => setTimeout(resolve, 100))
      const log = demo.output().slice(logAt)
      latencies.sort((a, b) => a - b)
      singleLatencies.sort((a, b) => a - b)
      batchLatencies.sort((a, b) => a - b)
      const statsNow = await workerStats(demo.url)
      return {
        l2,
        fault,
        stage,
        requests: latencies.length,
        // Less the stats requests that end the phase and that read the tiers' errors 5 s after a fault.
        reached: statsNow.received - statsAt.received - 1 - (lateStats === undefined ? 0 : 1),
        failed,
        failedJoined,
        partial,
        cancellations: count(log, /canceled this request because it detected that your Worker's code had hung/g),
        crossContext: count(log, /resolved or rejected from a different request context/g),
        oldWork: count(log, /tiercache: shared work for key/g),
        slow: latencies.filter((ms) => ms > 10_000).length,
        slowSamples,
        p99Single: quantile(singleLatencies, 0.99),
        p99Batch: quantile(batchLatencies, 0.99),
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: latencies.length === 0 ? 0 : /** @type {number} */ (latencies[latencies.length - 1]),
        hitRate: singles === 0 ? 0 : hitCount / singles,
        dbQueries: statsNow.queries - statsAt.queries,
        restarted: statsNow.isolate !== statsAt.isolate,
        tierErrors: statsNow.tierErrors.map((n, i) => n - (statsAt.tierErrors[i] ?? 0)),
        durationMs,
        recoveryMs: undefined,
        lateTierErrors: late === undefined ? undefined : statsNow.tierErrors.map((n, i) => n - (late.tierErrors[i] ?? 0)),
        hitRateAfter5s: undefined,
        hits,
        statuses,
        cacheStatuses,
        samples,
        misses,
      }
    },
    close: () => agent.destroy(),
  }
}

/**
 * A batch answer (`GET /api/products?ids=...`, status 200): 'ok' when every id has its product (or a cached "not
 * found", null), 'partial' when the ones without are listed as `unavailable`, undefined when it is neither.
 * @param {string} path
 * @param {string} text
 * @returns {'ok' | 'partial' | undefined}
 */
export function batchAnswer(path, text) {
  /** @type {{ products?: unknown, unavailable?: unknown }} */
  let body
  try {
    body = JSON.parse(text)
  } catch {
    return undefined
  }
  const ids = (new URL(path, 'http://x').searchParams.get('ids') ?? '').split(',').map(Number)
  const { products, unavailable = [] } = body
  if (!Array.isArray(products) || products.length !== ids.length || !Array.isArray(unavailable)) return undefined
  const answered = products.every((product, i) =>
    product === null ? true : typeof product === 'object' && /** @type {{ id?: unknown }} */ (product).id === ids[i],
  )
  if (!answered || !unavailable.every((id) => ids.includes(id) && products[ids.indexOf(id)] === null)) return undefined
  if (unavailable.length === 0) return 'ok'
  // A batch with no product at all to answer is a 503, not a 200 listing every id.
  return new Set(unavailable).size < new Set(ids).size ? 'partial' : undefined
}

/**
 * Whether an answer's Cache-Status says its request joined another request's load (the `collapsed` parameter the
 * demo's tiercache() adds), e.g. `edge; fwd=miss; collapsed`.
 * @param {string | undefined} cacheStatus
 */
export function joinedLoad(cacheStatus) {
  return (cacheStatus ?? '').split(';').some((param) => param.trim() === 'collapsed')
}

/**
 * When the hit rate came back after a fault: `hits` are the product requests of the `after` phase (sent ms after
 * the fault ended, hit or not), in the order sent.
 * @param {[number, boolean][]} hits
 * @param {number} target
 * @returns {{ recoveryMs: number | undefined, hitRateAfter5s: number | undefined }}
 */
export function recovery(hits, target) {
  const sorted = [...hits].sort((a, b) => a[0] - b[0])
  const WINDOW = 50
  /** @type {number | undefined} */
  let recoveryMs
  // Scanning backwards: the earliest start from which every window of WINDOW requests is within the target.
  for (let start = sorted.length - WINDOW; start >= 0; start -= 10) {
    const window = sorted.slice(start, start + WINDOW)
    if (window.filter(([, hit]) => hit).length / window.length < target) break
    recoveryMs = /** @type {[number, boolean]} */ (sorted[start])[0]
  }
  const late = sorted.filter(([ms]) => ms >= 5_000)
  return { recoveryMs, hitRateAfter5s: late.length === 0 ? undefined : late.filter(([, hit]) => hit).length / late.length }
}

/**
 * The phases as a markdown table.
 * @param {PhaseResult[]} phases
 * @returns {string}
 */
export function formatTable(phases) {
  const rows = [
    '| L2 | fault | phase | requests | failed | runtime cancellations | p50 ms | p99 ms | hit rate | DB queries | hit rate from 5 s after | back within 5 points after |',
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for (const p of phases) {
    const judged = p.stage === 'after' && p.fault !== 'none'
    const back = !judged ? '' : p.recoveryMs === undefined ? 'not within the phase' : `${(p.recoveryMs / 1000).toFixed(1)} s`
    const late = p.hitRateAfter5s === undefined ? '' : `${(p.hitRateAfter5s * 100).toFixed(1)}%`
    rows.push(
      `| ${p.l2} | ${p.fault} | ${p.stage} | ${p.requests} | ${p.failed} | ${p.cancellations} | ${Math.round(p.p50)} | ${Math.round(p.p99)} | ${(p.hitRate * 100).toFixed(1)}% | ${p.dbQueries} | ${late} | ${back} |`,
    )
  }
  return rows.join('\n')
}

/** @param {number[]} sorted @param {number} q */
function quantile(sorted, q) {
  if (sorted.length === 0) return 0
  return /** @type {number} */ (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))])
}

/** @param {string} text @param {RegExp} re */
function count(text, re) {
  return text.match(re)?.length ?? 0
}

/**
 * @template {Record<K, number>} T
 * @template {string} K
 * @param {T[]} items
 * @param {K} field
 */
function sum(items, field) {
  return items.reduce((total, item) => total + item[field], 0)
}

/** mulberry32: the same sequence of ids on every run. @param {number} seed */
function seeded(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string' },
      concurrency: { type: 'string' },
      l2: { type: 'string' },
      faults: { type: 'string' },
      json: { type: 'boolean' },
      'log-dir': { type: 'string' },
    },
  })
  const logDir = values['log-dir']
  const result = await runLoad({
    requests: Number(values.requests ?? 3000),
    concurrency: Number(values.concurrency ?? 50),
    l2: /** @type {L2[]} */ ((values.l2 ?? 'memory,upstash').split(',')),
    log: (line) => process.stderr.write(`${line}\n`),
    faults: /** @type {FaultName[] | undefined} */ (values.faults?.split(',')),
    onOutput: logDir === undefined ? undefined : (l2, output) => writeFileSync(join(logDir, `worker-${l2}.log`), output),
  })
  process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatTable(result.phases)}\n`)
}
