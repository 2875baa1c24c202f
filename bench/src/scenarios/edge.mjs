// Scenario 6: the edge path. A Worker (../edge/worker.mjs, bundled with esbuild) runs in workerd through
// miniflare's Node API with its real Cache API; tiercache's L2 is a real redis-server behind testkit's Upstash
// endpoint, reached by @upstash/redis over HTTP on 127.0.0.1. Load comes from Node over loopback HTTP.
import { execFileSync } from 'node:child_process'
import { readFileSync, realpathSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { interleave, must } from '../harness.mjs'
import { createClient } from '../edge/http-load.mjs'
import { cpuTimeNs, descendants } from '../proc.mjs'
import { startServices } from '../services.mjs'
import { bundleEntry, withStarted } from '../started.mjs'
import { fmtInt, fmtMs, fmtNum, fmtRatio, quantile, sleep, summarize } from '../stats.mjs'

const benchDir = fileURLToPath(new URL('../..', import.meta.url))
const workerEntry = fileURLToPath(new URL('../edge/worker.mjs', import.meta.url))
const CONCURRENCY = 16
const HOT_KEYS = 100

/**
 * @typedef {object} Subject
 * @property {string} id
 * @property {string} label
 * @property {string} baseline                 id of the subject its ratios are taken to
 * @property {(key: string) => string} path
 * @property {'hot' | 'l2' | 'fresh'} keys     hot: primed keys in rotation; l2: keys primed into Upstash only; fresh: never seen
 * @property {number} originCalls              expected origin calls per request
 * @property {string} expect                   what Cache-Status must say, for the table
 * @property {(headers: import('node:http').IncomingHttpHeaders) => boolean} status
 * @property {boolean} [tiercache]
 */

const tcStatus = (/** @type {RegExp} */ re) => (/** @type {import('node:http').IncomingHttpHeaders} */ h) =>
  re.test(String(h['cache-status'] ?? ''))

/** @type {Subject[]} */
const SUBJECTS = [
  {
    id: 'direct-0',
    label: 'direct origin, no cache (0 ms origin)',
    baseline: 'direct-0',
    path: (k) => `/direct/0/${k}`,
    keys: 'hot',
    originCalls: 1,
    expect: 'none',
    status: (h) => h['cache-status'] === undefined,
  },
  {
    id: 'hono-l1',
    label: 'hono/cache middleware: Cache API hit',
    baseline: 'direct-0',
    path: (k) => `/hono/${k}`,
    keys: 'hot',
    originCalls: 0,
    expect: 'cf-cache-status: HIT',
    status: (h) => h['cf-cache-status'] === 'HIT',
  },
  {
    id: 'tc-l1',
    label: 'tiercache withCache: L1 hit (Cache API)',
    baseline: 'direct-0',
    path: (k) => `/tc/0/${k}`,
    keys: 'hot',
    originCalls: 0,
    expect: 'hit; detail=L1',
    status: tcStatus(/^tiercache; hit; ttl=\d+; detail=L1$/),
    tiercache: true,
  },
  {
    id: 'tc-l2',
    label: 'tiercache withCache: L2 hit (Upstash), L1 empty',
    baseline: 'direct-0',
    path: (k) => `/tc/0/${k}`,
    keys: 'l2',
    originCalls: 0,
    expect: 'hit; detail=L2',
    status: tcStatus(/^tiercache; hit; ttl=\d+; detail=L2$/),
    tiercache: true,
  },
  {
    id: 'tc-miss-0',
    label: 'tiercache withCache: miss (0 ms origin)',
    baseline: 'direct-0',
    path: (k) => `/tc/0/${k}`,
    keys: 'fresh',
    originCalls: 1,
    expect: 'fwd=miss; stored',
    status: tcStatus(/^tiercache; fwd=miss; stored$/),
    tiercache: true,
  },
  {
    id: 'direct-20',
    label: 'direct origin, no cache (20 ms origin)',
    baseline: 'direct-20',
    path: (k) => `/direct/20/${k}`,
    keys: 'hot',
    originCalls: 1,
    expect: 'none',
    status: (h) => h['cache-status'] === undefined,
  },
  {
    id: 'tc-miss-20',
    label: 'tiercache withCache: miss (20 ms origin)',
    baseline: 'direct-20',
    path: (k) => `/tc/20/${k}`,
    keys: 'fresh',
    originCalls: 1,
    expect: 'fwd=miss; stored',
    status: tcStatus(/^tiercache; fwd=miss; stored$/),
    tiercache: true,
  },
]

/** Key `i` of a subject in a round (round -1 is the warm-up). */
function keyOf(/** @type {Subject} */ subject, /** @type {number} */ round, /** @type {number} */ i) {
  if (subject.keys === 'hot') return `hot-${i % HOT_KEYS}`
  return `${subject.keys}-r${round + 1}-${i}`
}

/**
 * @typedef {object} Sample
 * @property {number} alone                 p50 latency of the requests sent one at a time (ms)
 * @property {number} rps
 * @property {number} p50
 * @property {number} p99
 * @property {number | undefined} cpuUs     workerd CPU per request (µs), background work included
 * @property {number} upstash               Upstash HTTP requests per request, background work included
 * @property {Record<string, number>} byCommand
 * @property {number} origin                origin calls per request
 */

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'edge',
  async run({ quick, log }) {
    const rounds = quick ? 2 : 7
    // Each slice: `sequential` requests on one connection (unloaded latency), then `perSlice` with CONCURRENCY
    // connections (throughput and latency under load).
    const sequential = quick ? 10 : 50
    const perSlice = quick ? 60 : 400
    const total = sequential + perSlice
    const title = 'Edge path: withCache in workerd (miniflare), Cache API L1 + Upstash L2'
    const needs = 'Needs redis-server (apt-get install redis-server) and the workspace installed (`pnpm install`); see the error.'
    return withStarted({ title, needs, log }, async (stopLater) => {
      const t0 = Date.now()
      const script = await bundleEntry(workerEntry, benchDir, {
        platform: 'neutral',
        conditions: ['workerd', 'worker', 'browser', 'import'],
        mainFields: ['module', 'main'],
      })
      const services = await startServices()
      stopLater(() => services.stop())
      const { Miniflare } = await import('miniflare')
      const mf = new Miniflare({
        host: '127.0.0.1',
        port: 0,
        modules: true,
        script,
        compatibilityDate: '2026-04-01',
        bindings: { UPSTASH_REDIS_REST_URL: services.upstashUrl, UPSTASH_REDIS_REST_TOKEN: services.token },
        telemetry: { enabled: false },
      })
      stopLater(() => mf.dispose())
      const url = await mf.ready
      if (url.hostname !== '127.0.0.1') throw new Error(`miniflare listens on ${url.hostname}, expected 127.0.0.1`)
      const workerd = descendants(process.pid, (comm) => comm === 'workerd')
      const client = createClient(Number(url.port), CONCURRENCY)
      stopLater(() => client.close())
      log(`  workerd ready at ${url.origin} in ${Date.now() - t0} ms (pids ${workerd.join(', ') || 'not found'})`)

      const workerStats = async () => /** @type {{ originCalls: number, pending: number }} */ (JSON.parse((await client.get('/__bench/stats')).body))
      /** Waits until the Worker's waitUntil work (fills, writes, lock releases) has settled. */
      const settle = async () => {
        const deadline = Date.now() + 10_000
        for (;;) {
          const stats = await workerStats()
          if (stats.pending === 0) return stats
          if (Date.now() > deadline) throw new Error(`${stats.pending} waitUntil tasks still pending after 10 s`)
          await sleep(5)
        }
      }
      /** Sends every path once (concurrently) and checks each Cache-Status. */
      const prime = async (/** @type {string[]} */ paths, /** @type {RegExp} */ status, /** @type {Record<string, string>} */ headers = {}) => {
        await client.run({
          n: paths.length,
          concurrency: CONCURRENCY,
          pathOf: (i) => /** @type {string} */ (paths[i]),
          headers,
          check: (answer, i) => {
            if (answer.status !== 200 || !status.test(String(answer.headers['cache-status'] ?? ''))) {
              throw new Error(`priming ${paths[i]}: ${answer.status}, Cache-Status ${answer.headers['cache-status']}`)
            }
          },
        })
        await settle()
      }

      // Hot keys: stored by one request each (tiercache in L1 + L2, hono in its Cache API cache).
      const hot = Array.from({ length: HOT_KEYS }, (_, i) => `hot-${i}`)
      await prime(hot.map((k) => `/tc/0/${k}`), /^tiercache; fwd=miss; stored$/)
      await prime(hot.map((k) => `/hono/${k}`), /^$/)
      // Keys for the L2-hit slices: stored through an instance whose L1 is another Cache API cache, so they are in
      // Upstash but not in the measured L1. Each is read once: the read fills L1.
      const l2Subject = must(new Map(SUBJECTS.map((s) => [s.id, s])), 'tc-l2')
      const l2Paths = []
      for (let round = -1; round < rounds; round++) {
        for (let i = 0; i < total; i++) l2Paths.push(l2Subject.path(keyOf(l2Subject, round, i)))
      }
      await prime(l2Paths, /^tiercache; fwd=miss; stored$/, { 'x-bench-prime': '1' })
      log(`  primed ${HOT_KEYS} hot keys and ${fmtInt(l2Paths.length)} L2-only keys`)

      const results = await interleave({
        subjects: SUBJECTS,
        rounds,
        label: (s) => s.label,
        log,
        async slice(subject, round) {
          const before = await settle()
          await services.reset()
          const cpu0 = cpuTimeNs(workerd)
          /** @type {Map<string, number>} */
          const wrong = new Map()
          /** @param {import('../edge/http-load.mjs').Answer} answer */
          const check = (answer) => {
            if (answer.status === 200 && subject.status(answer.headers)) return
            const seen = `${answer.status} ${answer.headers['cache-status'] ?? answer.headers['cf-cache-status'] ?? 'no Cache-Status'}`
            wrong.set(seen, (wrong.get(seen) ?? 0) + 1)
          }
          const alone = await client.run({
            n: sequential,
            concurrency: 1,
            pathOf: (i) => subject.path(keyOf(subject, round, i)),
            check,
          })
          const { wallMs, latencies } = await client.run({
            n: perSlice,
            concurrency: CONCURRENCY,
            pathOf: (i) => subject.path(keyOf(subject, round, sequential + i)),
            check,
          })
          const after = await settle()
          const cpu1 = cpuTimeNs(workerd)
          const upstash = await services.stats()
          if (wrong.size) {
            throw new Error(`expected ${subject.expect}, got ${[...wrong].map(([s, n]) => `${n} x ${s}`).join(', ')}`)
          }
          const origin = after.originCalls - before.originCalls
          if (origin !== subject.originCalls * total) {
            throw new Error(`origin ran ${origin} times for ${total} requests, expected ${subject.originCalls * total}`)
          }
          return /** @type {Sample} */ ({
            alone: quantile(alone.latencies, 0.5),
            rps: (perSlice / wallMs) * 1000,
            p50: quantile(latencies, 0.5),
            p99: quantile(latencies, 0.99),
            cpuUs: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / total / 1000,
            upstash: upstash.requests / total,
            byCommand: upstash.byCommand,
            origin: origin / total,
          })
        },
      })

      const beforeOrigin = await probeMisses(client, services, settle, rounds)
      return table({ results, rounds, perSlice, sequential, quick, beforeOrigin, title })
    })
  },
}

/**
 * Upstash requests made before the origin is called, on a full miss: the origin reads the endpoint's counters
 * itself (x-bench-probe), a few sequential requests on fresh keys.
 * @param {ReturnType<typeof createClient>} client
 * @param {import('../services.mjs').Services} services
 * @param {() => Promise<unknown>} settle
 * @param {number} rounds
 */
async function probeMisses(client, services, settle, rounds) {
  /** @type {Array<{ requests: number, byCommand: Record<string, number> }>} */
  const seen = []
  for (let i = 0; i < 5; i++) {
    await settle()
    await services.reset()
    const answer = await client.get(`/tc/0/probe-${rounds}-${i}`, { 'x-bench-probe': '1' })
    const header = answer.headers['x-upstash-before-origin']
    if (typeof header !== 'string') throw new Error(`probe request: no x-upstash-before-origin (Cache-Status ${answer.headers['cache-status']})`)
    seen.push(JSON.parse(header))
  }
  await settle()
  return seen
}

/**
 * @param {object} input
 * @param {Map<Subject, { samples: Sample[], error?: string }>} input.results
 * @param {number} input.rounds
 * @param {number} input.perSlice
 * @param {number} input.sequential
 * @param {boolean} input.quick
 * @param {string} input.title
 * @param {Array<{ requests: number, byCommand: Record<string, number> }>} input.beforeOrigin
 */
function table({ results, rounds, perSlice, sequential, quick, beforeOrigin, title }) {
  const byId = new Map(SUBJECTS.map((s) => [s.id, s]))
  const medianOf = (/** @type {Subject} */ s, /** @type {(x: Sample) => number} */ pick) => {
    const r = results.get(s)
    return r && !r.error && r.samples.length ? summarize(r.samples.map(pick)).median : Number.NaN
  }
  const before = beforeOrigin.map((b) => b.requests)
  const beforeCommands = summarizeCommands(beforeOrigin.map((b) => b.byCommand), 1)
  // The read that decides a miss: a read-only script, a GET/MGET, or (with the lock taken in the read, the default
  // since upstash-locks.ts) the one script that reads the entry and takes the lock.
  const reads = beforeOrigin.map((b) => ['EVAL_RO', 'EVALSHA_RO', 'EVAL', 'EVALSHA', 'GET', 'MGET'].reduce((n, command) => n + (b.byCommand[command] ?? 0), 0))
  const maxReads = Math.max(...reads)

  const rows = SUBJECTS.map((subject) => {
    const r = must(results, subject)
    if (r.error || r.samples.length === 0) return [subject.label, `error: ${r.error ?? 'no samples'}`, '', '', '', '', '', '', '', 'no']
    const alone = summarize(r.samples.map((x) => x.alone))
    const rps = summarize(r.samples.map((x) => x.rps))
    const p50 = summarize(r.samples.map((x) => x.p50))
    const p99 = summarize(r.samples.map((x) => x.p99))
    const cpu = r.samples.every((x) => x.cpuUs !== undefined) ? summarize(r.samples.map((x) => /** @type {number} */ (x.cpuUs))) : undefined
    const upstash = summarize(r.samples.map((x) => x.upstash))
    const baseline = must(byId, subject.baseline)
    const isBaseline = baseline === subject
    const aloneRatio = alone.median / medianOf(baseline, (x) => x.alone)
    const rpsRatio = rps.median / medianOf(baseline, (x) => x.rps)
    let upstashCell = fmtNum(upstash.median)
    let target = '—'
    if (subject.tiercache) {
      if (subject.keys === 'hot') target = upstash.max === 0 ? 'yes (0)' : `no (${fmtNum(upstash.max)})`
      else if (subject.keys === 'l2') target = upstash.max <= 1 ? `yes (${fmtNum(upstash.max)})` : `no (${fmtNum(upstash.max)})`
      else {
        upstashCell += `; ${fmtNum(summarize(before).median)} before the origin`
        target = maxReads <= 1 ? `yes (${maxReads} read decides the miss)` : `no (${maxReads} reads before the origin)`
      }
    }
    return [
      subject.label,
      `${fmtMs(alone.median)} (${fmtNum(alone.min)} .. ${fmtNum(alone.max)})`,
      `${fmtInt(rps.median)} (${fmtInt(rps.min)} .. ${fmtInt(rps.max)})`,
      `${fmtMs(p50.median)} / ${fmtMs(p99.median)}`,
      isBaseline ? '1.00x (baseline)' : `${fmtRatio(aloneRatio)} / ${fmtRatio(rpsRatio)}`,
      cpu ? `${fmtInt(cpu.median)} µs` : 'n/a',
      upstashCell,
      fmtNum(summarize(r.samples.map((x) => x.origin)).median),
      subject.expect,
      target,
    ]
  })

  const upstashOf = (/** @type {string} */ id) => {
    const r = must(results, must(byId, id))
    return r.error || !r.samples.length ? undefined : summarize(r.samples.map((x) => x.upstash))
  }
  const l1 = upstashOf('tc-l1')
  const l2 = upstashOf('tc-l2')
  /** @type {import('../report.mjs').Target[]} */
  const targets = [
    {
      target: 'Edge: Upstash HTTP round trips on an L1 (Cache API) hit = 0',
      measured: l1 ? `${fmtNum(l1.max)} per request (highest over rounds)` : 'not measured',
      met: l1 ? l1.max === 0 : undefined,
    },
    {
      target: 'Edge: Upstash HTTP round trips <= 1 on an L1 miss (before deciding)',
      measured:
        (l2 ? `L2 hit: ${fmtNum(l2.max)} per request (highest over rounds); ` : 'L2 hit: not measured; ') +
        `full miss: ${maxReads} read decides it, ${fmtNum(summarize(before).median)} before the origin (read + stampede lock), ` +
        `${fmtNum(upstashOf('tc-miss-0')?.median ?? Number.NaN)} in all with the write and lock release in waitUntil`,
      met: l2 ? l2.max <= 1 && maxReads <= 1 : undefined,
    },
  ]
  for (const t of targets) {
    if (t.met === false) t.reason = 'See the Upstash columns of the edge table: the commands per request and before the origin are listed there.'
  }
  const commands = (/** @type {string} */ id) => {
    const s = must(byId, id)
    const r = must(results, s)
    return r.error || !r.samples.length ? 'n/a' : summarizeCommands(r.samples.map((x) => x.byCommand), sequential + perSlice)
  }
  return {
    targets,
    title,
    description:
      `One Worker script (bench/src/edge/worker.mjs, bundled with esbuild) in workerd via the miniflare ${versionOf('miniflare')} Node API ` +
      `(workerd ${workerdVersion()}), with miniflare's real Cache API. tiercache: \`withCache(origin, { cache: (env) => createEdgeCache(env, { Redis, namespace: 'bench', cacheName: 'tc-l1' }), policy: { ttl: '1h' } })\` ` +
      `= cacheApiStore L1 + upstashStore L2 + upstashCoordinator, @upstash/redis ${versionOf('@upstash/redis')} (\`@upstash/redis/cloudflare\`) ` +
      `against ${redisVersion()} behind @tiercache/testkit's Upstash endpoint (its own Node process), all on 127.0.0.1. ` +
      `The origin is a handler in the same Worker answering ~300 bytes of JSON after a fixed 0 or 20 ms. ` +
      `Peer for the L1 hit: hono ${versionOf('hono')} \`cache({ cacheName, cacheControl: 'max-age=3600' })\` (Cache API only). ` +
      `Load: Node's node:http over a real loopback HTTP port (miniflare's \`mf.ready\` URL, not dispatchFetch), keep-alive connections, ` +
      `each sending its next request when the previous body has been read. A slice is ${fmtInt(sequential)} requests on 1 connection (latency alone), ` +
      `then ${fmtInt(perSlice)} on ${CONCURRENCY} connections (throughput, latency under load); ${rounds} measured rounds after 1 warm-up round, ` +
      `the 7 paths interleaved with the order rotating every round${quick ? ' (quick run: short slices, noisy)' : ''}.`,
    columns: [
      'path',
      'p50 latency, 1 connection (min .. max)',
      `req/s, ${CONCURRENCY} connections (min .. max)`,
      `p50 / p99 latency, ${CONCURRENCY} connections`,
      'ratio to baseline: p50 alone / req/s',
      'workerd CPU per request',
      'Upstash HTTP requests per request',
      'origin calls per request',
      'Cache-Status asserted',
      'round trips target (0 on L1 hit, <= 1 to decide an L1 miss)',
    ],
    rows,
    notes: [
      'Baselines: the same Worker answering from the origin directly, 0 ms origin for the hit rows and the 0 ms miss, 20 ms origin for the 20 ms miss. Ratios: p50 latency on 1 connection (lower is better) / requests per second on many (higher is better), medians over rounds.',
      'Latency is measured in Node from writing the request to the last body byte; p50 and p99 per slice, then the median over rounds (min .. max of the per-round values in brackets). req/s = requests / wall time of the concurrent part. Under load p50 is mostly queueing (about connections / req/s).',
      "miniflare implements the Cache API as a Durable Object (its cache.worker.js) in the same workerd, keeping entries in SQLite and blob files in a temp directory: far heavier than Cloudflare's cache, and paid alike by hono/cache and tiercache's L1. That is why an L1 hit here costs more than the origin it saves.",
      `workerd CPU per request: CPU time of the workerd process (all threads, /proc schedstat) from the start of a slice until its waitUntil work settled, divided by its requests. It includes miniflare's entry worker and Cache API service (they run in the same workerd), and the fills and writes done in the background.`,
      `Every answer is checked: status 200 and the Cache-Status shown (hono's hit: workerd's cf-cache-status HIT), and the origin's call counter must have moved by exactly the origin calls shown (0 for hits, 1 per miss); a path failing a check shows the error instead of numbers.`,
      `Upstash requests are counted by the endpoint over each slice, background work included, after the Worker's waitUntil work settled. Commands per request: L1 hit ${commands('tc-l1')}; L2 hit ${commands('tc-l2')}; miss ${commands('tc-miss-0')}.`,
      `Before the origin runs on a full miss (the origin read the endpoint's counters itself, ${beforeOrigin.length} sequential requests on fresh keys): ${before.join(', ')} requests (${beforeCommands}): one read of the entry and its tag times decides the miss (EVAL_RO), then the coordinator's stampede lock (SET NX); the write and the lock release run in waitUntil after the answer.`,
      'The L2-hit keys were stored beforehand through a second withCache instance with the same namespace and Redis but another Cache API cache as L1, so the measured L1 is empty for them; each is read once (the read fills L1 in the background).',
      'Everything runs on this 2-core machine: workerd, the Upstash endpoint, redis-server and the load generator compete for the same cores, so L2 and miss latencies include the endpoint\'s own CPU, which production would spend elsewhere. Compare ratios, not absolute numbers, with Cloudflare.',
    ],
  }
}

/**
 * Average commands per request, e.g. "EVAL_RO 1, SET 1".
 * @param {Array<Record<string, number>>} list
 * @param {number} perSample   requests behind each record
 */
function summarizeCommands(list, perSample) {
  /** @type {Map<string, number>} */
  const total = new Map()
  for (const byCommand of list) for (const [name, n] of Object.entries(byCommand)) total.set(name, (total.get(name) ?? 0) + n)
  if (total.size === 0) return 'none'
  return [...total]
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${fmtNum(n / list.length / perSample)}`)
    .join(', ')
}

/** @param {string} pkg */
function versionOf(pkg) {
  try {
    return JSON.parse(readFileSync(join(benchDir, 'node_modules', pkg, 'package.json'), 'utf8')).version
  } catch {
    return '?'
  }
}

function workerdVersion() {
  try {
    // workerd is miniflare's dependency: look beside miniflare in pnpm's store.
    const miniflareDir = realpathSync(join(benchDir, 'node_modules', 'miniflare'))
    return JSON.parse(readFileSync(join(dirname(miniflareDir), 'workerd', 'package.json'), 'utf8')).version
  } catch {
    return '?'
  }
}

function redisVersion() {
  try {
    const out = execFileSync('redis-server', ['--version'], { encoding: 'utf8' })
    return `redis-server ${/v=(\S+)/.exec(out)?.[1] ?? '?'}`
  } catch {
    return 'redis-server'
  }
}
