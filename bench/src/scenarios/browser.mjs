// Scenario 7: the browser path in real Chromium (Debian's /usr/bin/chromium driven by playwright-core).
// A node:http server on 127.0.0.1 serves the page (../browser/page.mjs, bundled with esbuild) and a small JSON
// API; the timing loops run inside the page and hand their per-operation latencies back to Node.
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { interleave, must } from '../harness.mjs'
import { bundleEntry, listenOnLoopback, withStarted } from '../started.mjs'
import { fmtNum, fmtRatio, quantile, summarize } from '../stats.mjs'

const benchDir = fileURLToPath(new URL('../..', import.meta.url))
const pageEntry = fileURLToPath(new URL('../browser/page.mjs', import.meta.url))

/**
 * @typedef {object} Subject
 * @property {string} kind        the page's name for it
 * @property {string} table       'store' | 'fetch'
 * @property {string} baseline    kind of its baseline
 * @property {number} ops         operations per slice (full run)
 * @property {boolean} network    whether each operation must reach the server
 */

/** @type {Subject[]} */
const SUBJECTS = [
  { kind: 'idb-keyval get', table: 'store', baseline: 'idb-keyval get', ops: 400, network: false },
  { kind: 'indexedDbStore get', table: 'store', baseline: 'idb-keyval get', ops: 400, network: false },
  { kind: 'indexedDbStore get, access-time writes deferred', table: 'store', baseline: 'idb-keyval get', ops: 400, network: false },
  { kind: 'idb-keyval getMany', table: 'store', baseline: 'idb-keyval getMany', ops: 60, network: false },
  { kind: 'indexedDbStore getMany', table: 'store', baseline: 'idb-keyval getMany', ops: 60, network: false },
  { kind: 'indexedDbStore getMany, access-time writes deferred', table: 'store', baseline: 'idb-keyval getMany', ops: 60, network: false },
  { kind: 'network', table: 'fetch', baseline: 'network', ops: 200, network: true },
  { kind: 'cachedFetch memory hit', table: 'fetch', baseline: 'network', ops: 400, network: false },
  { kind: 'cachedFetch IndexedDB hit', table: 'fetch', baseline: 'network', ops: 200, network: false },
]

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'browser',
  async run({ quick, log }) {
    const rounds = quick ? 2 : 7
    const scale = quick ? 0.25 : 1
    const title = 'Browser path: IndexedDB tier and cached fetch in Chromium'
    const needs = 'Needs Chromium (apt-get install chromium; testkit ensureChromium() tries that) and the workspace installed.'
    return withStarted({ title, needs, log }, async (stopLater) => {
      const t0 = Date.now()
      const [{ chromium }, testkit] = await Promise.all([import('playwright-core'), import('@tiercache/testkit')])
      const executablePath = await testkit.ensureChromium()
      const bundle = await bundleEntry(pageEntry, benchDir, { platform: 'browser' })
      const server = await startServer(bundle)
      stopLater(() => server.close())
      const profile = await mkdtemp(join(tmpdir(), 'tiercache-bench-chromium-'))
      stopLater(() => rm(profile, { recursive: true, force: true }))
      // A persistent profile on disk: IndexedDB is written to files as on a user's machine, not kept in memory
      // as in an incognito context.
      // Signals are handled by withStarted (close Chromium, then remove the profile); playwright still kills
      // Chromium when this process exits any other way.
      const context = await chromium.launchPersistentContext(profile, {
        ...testkit.chromiumLaunchOptions({ executablePath }),
        handleSIGINT: false,
        handleSIGTERM: false,
      })
      stopLater(() => context.close())
      const browserVersion = context.browser()?.version() ?? (await versionFromPage(context))
      const page = await context.newPage()
      /** @type {string[]} */
      const pageErrors = []
      page.on('pageerror', (error) => pageErrors.push(error.message))
      await page.goto(`${server.origin}/`)
      await page.waitForFunction(() => /** @type {any} */ (globalThis).__ready === true, undefined, { timeout: 20_000 })
      const info = /** @type {{ crossOriginIsolated: boolean, userAgent: string, recordBytes: number }} */ (
        await page.evaluate(() => /** @type {any} */ (globalThis).bench.setup())
      )
      log(`  Chromium ${browserVersion} ready in ${Date.now() - t0} ms (cross-origin isolated: ${info.crossOriginIsolated})`)

      const results = await interleave({
        subjects: SUBJECTS,
        rounds,
        label: (s) => s.kind,
        log,
        async slice(subject) {
          const ops = Math.max(10, Math.round(subject.ops * scale))
          const before = server.apiRequests()
          const latencies = /** @type {number[]} */ (
            await page.evaluate(([kind, n]) => /** @type {any} */ (globalThis).bench.slice(kind, n), /** @type {const} */ ([subject.kind, ops]))
          )
          const reached = server.apiRequests() - before
          const expected = subject.network ? ops : 0
          if (reached !== expected) throw new Error(`${reached} requests reached the server for ${ops} operations, expected ${expected}`)
          if (pageErrors.length) throw new Error(`page error: ${pageErrors.join('; ')}`)
          return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), ops }
        },
      })
      return tables({ results, rounds, quick, browserVersion, info })
    })
  },
}

/**
 * The page, its script and `/api/item?id=N` (JSON, `Cache-Control: max-age=3600`, so cachedFetch stores it) on
 * 127.0.0.1. COOP + COEP make the page cross-origin isolated, for a finer performance.now().
 * @param {string} bundle
 */
async function startServer(bundle) {
  let api = 0
  const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (url.pathname === '/api/item') {
      api++
      const id = Number(url.searchParams.get('id'))
      const body = JSON.stringify({
        id,
        name: `item ${id}`,
        price: 1000 + id,
        tags: ['bench', 'browser', 'fetch'],
        description: 'A fixed document of a few hundred bytes, as a small API answer would be.',
      })
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'max-age=3600', ...isolation })
      return res.end(body)
    }
    if (url.pathname === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store', ...isolation })
      return res.end(bundle)
    }
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...isolation })
      return res.end('<!doctype html><meta charset="utf-8"><title>tiercache bench</title><script type="module" src="/page.js"></script>')
    }
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found')
  })
  return { ...(await listenOnLoopback(server)), apiRequests: () => api }
}

/** @param {import('playwright-core').BrowserContext} context */
async function versionFromPage(context) {
  const page = await context.newPage()
  try {
    const ua = await page.evaluate(() => /** @type {any} */ (globalThis).navigator.userAgent)
    return /Chrome\/(\S+)/.exec(ua)?.[1] ?? ua
  } finally {
    await page.close()
  }
}

/**
 * @param {object} input
 * @param {Map<Subject, { samples: Array<{ p50: number, p99: number, ops: number }>, error?: string }>} input.results
 * @param {number} input.rounds
 * @param {boolean} input.quick
 * @param {string} input.browserVersion
 * @param {{ crossOriginIsolated: boolean, recordBytes: number }} input.info
 */
function tables({ results, rounds, quick, browserVersion, info }) {
  const byKind = new Map(SUBJECTS.map((s) => [s.kind, s]))
  const fmtUs = (/** @type {number} */ ms) => (ms >= 1 ? `${fmtNum(ms)} ms` : `${fmtNum(ms * 1000)} µs`)
  const rowsOf = (/** @type {string} */ name) =>
    SUBJECTS.filter((s) => s.table === name).map((subject) => {
      const r = must(results, subject)
      if (r.error || r.samples.length === 0) return [subject.kind, `error: ${r.error ?? 'no samples'}`, '', '', '', '']
      const p50 = summarize(r.samples.map((x) => x.p50))
      const p99 = summarize(r.samples.map((x) => x.p99))
      const base = must(results, must(byKind, subject.baseline))
      const baseP50 = base.error || !base.samples.length ? Number.NaN : summarize(base.samples.map((x) => x.p50)).median
      const isBaseline = subject.baseline === subject.kind
      return [
        subject.kind,
        fmtUs(p50.median),
        `${fmtUs(p50.min)} .. ${fmtUs(p50.max)}`,
        fmtUs(p99.median),
        isBaseline ? '1.00x (baseline)' : fmtRatio(p50.median / baseP50),
        String(r.samples[0]?.ops ?? ''),
      ]
    })
  const columns = ['operation', 'median of per-round p50', 'spread of p50 (min .. max)', 'median of per-round p99', 'ratio to baseline (p50)', 'ops per slice']
  const method =
    `Chromium ${browserVersion} (headless, testkit's flags, persistent profile in a temp dir) driven by playwright-core; page and API served by node:http on 127.0.0.1. ` +
    `The loops run in the page, one awaited operation after another, each timed with performance.now() ` +
    `(${info.crossOriginIsolated ? 'the page is cross-origin isolated: 5 µs timer resolution' : 'NOT cross-origin isolated: 100 µs timer resolution'}); ` +
    `${rounds} measured rounds after 1 warm-up round, all 9 contenders of both tables interleaved with the order rotating every round${quick ? ' (quick run: a quarter of the operations, noisy)' : ''}.`
  return [
    {
      title: 'Browser: indexedDbStore vs raw idb-keyval (Chromium)',
      description:
        `${method} Data: 1,000 entries written once through \`indexedDbStore({ dbName })\` (a core entry whose value is ~250 bytes of JSON-like data; ` +
        `stored record ${fmtNum(info.recordBytes)} bytes as JSON). idb-keyval reads the very same records: \`createStore(dbName, 'entries')\` on the same database. ` +
        'get: keys in rotation; getMany: 100 consecutive keys per call, one transaction each.',
      columns,
      rows: rowsOf('store'),
      notes: [
        'indexedDbStore adds to the idb-keyval call: decoding and checking the envelope, the expiry check, and recording the access time for its LRU in memory. Access times are written to their own database (`<dbName>-lru`) by a timer every `accessFlushInterval` (5 s), in transactions of 100, never from a read; a flush that lands inside a slice still slows the reads near it.',
        'The "access-time writes deferred" rows are a diagnostic: a second indexedDbStore on the same database with `accessFlushInterval: \'1h\'`, so no access-time write falls inside the run. The difference to the row above it is what the periodic writes cost the reads.',
        'After every slice the page waits (untimed) for a readwrite transaction on each database, so writes a slice queued do not land in the next contender\'s slice.',
        'Every operation checks its result: the value of each key (indexedDbStore), a record for each key (idb-keyval).',
      ],
    },
    {
      title: 'Browser: createCachedFetch hits vs network (Chromium)',
      description:
        `${method} \`/api/item?id=N\` (50 URLs in rotation) answers ~200 bytes of JSON with \`Cache-Control: max-age=3600\`; every operation reads the body (res.json()). ` +
        "network: the page's fetch with `cache: 'no-store'` to the 127.0.0.1 server (the baseline). " +
        'memory hit: createCachedFetch over createCache({ tiers: [memoryStore(), indexedDbStore()] }) after one priming fetch per URL. ' +
        'IndexedDB hit: the same IndexedDB store, but each operation gets a new memory tier, cache and cachedFetch (built before its clock starts), so the memory tier misses and IndexedDB answers.',
      columns,
      rows: rowsOf('fetch'),
      notes: [
        'Checked per operation: the body belongs to the URL, and Cache-Status names the tier that answered (`detail=memory` / `detail=indexeddb`); per slice, the server saw exactly one request per network operation and none for the hits.',
        'The network baseline is loopback on the same machine (no TLS, no real network latency): a lower bound for any real fetch, so these ratios understate what a hit saves.',
      ],
    },
  ]
}
