// Scenario: a reload of a TanStack Query page with 5,000 persisted queries, 50 of them shown, in Chromium:
// tiercache's per-query persister (createQueryPersister) against TanStack's whole-cache persister
// (persistQueryClientRestore + createAsyncStoragePersister on idb-keyval), side by side. Measured in the page: time
// until the shown queries have data, and the main thread's blocking time until then (long tasks over 50 ms).
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { listenOnLoopback, withStarted } from '../started.mjs'
import { fmtNum, summarize } from '../stats.mjs'

const benchDir = fileURLToPath(new URL('../..', import.meta.url))
const pageEntry = fileURLToPath(new URL('../browser/query-page.mjs', import.meta.url))
const PERSISTED = 5_000
const SHOWN = 50
const MODES = [
  { mode: 'tiercache', label: 'tiercache createQueryPersister (one entry per query)' },
  { mode: 'tanstack', label: "TanStack's whole-cache persister (createAsyncStoragePersister on idb-keyval)" },
]

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'query-persist',
  async run({ quick, log }) {
    const rounds = quick ? 3 : 9
    const title = `Browser: reloading a TanStack Query page with ${fmtNum(PERSISTED)} persisted queries (Chromium)`
    const needs = 'Needs Chromium (apt-get install chromium; testkit ensureChromium() tries that) and the workspace built.'
    return withStarted({ title, needs, log }, async (stopLater) => {
      const [{ chromium }, testkit] = await Promise.all([import('playwright-core'), import('@tiercache/testkit')])
      const executablePath = await testkit.ensureChromium()
      const bundle = await build({
        entryPoints: [pageEntry],
        bundle: true,
        format: 'esm',
        target: 'es2022',
        platform: 'browser',
        minify: true,
        define: { 'process.env.NODE_ENV': '"production"' },
        absWorkingDir: benchDir,
        write: false,
        logLevel: 'silent',
      })
      const server = await startServer(bundle.outputFiles[0]?.text ?? '')
      stopLater(() => server.close())
      const profile = await mkdtemp(join(tmpdir(), 'tiercache-bench-query-'))
      stopLater(() => rm(profile, { recursive: true, force: true }))
      const context = await chromium.launchPersistentContext(profile, { ...testkit.chromiumLaunchOptions({ executablePath }), handleSIGINT: false, handleSIGTERM: false })
      stopLater(() => context.close())
      const version = context.browser()?.version() ?? 'unknown'

      /** One page per mode, each on its own database, filled once. */
      const pages = new Map()
      for (const { mode } of MODES) {
        const page = await context.newPage()
        await page.goto(`${server.origin}/?mode=${mode}&db=bench-${mode}&shown=${SHOWN}`)
        await page.waitForFunction(() => /** @type {any} */ (globalThis).result !== undefined, undefined, { timeout: 60_000 })
        await page.evaluate((n) => /** @type {any} */ (globalThis).bench.persistMany(n), PERSISTED)
        pages.set(mode, page)
      }
      /** @type {Map<string, { timeToData: number, blocking: number, longest: number }[]>} */
      const samples = new Map(MODES.map(({ mode }) => [mode, []]))
      // One warm-up reload each, then `rounds` reloads, the modes alternating.
      for (let round = -1; round < rounds; round++) {
        for (const { mode } of round % 2 === 0 ? MODES : [...MODES].reverse()) {
          const page = pages.get(mode)
          const before = server.requests()
          await page.reload()
          await page.waitForFunction(() => /** @type {any} */ (globalThis).result !== undefined, undefined, { timeout: 60_000 })
          const result = await page.evaluate(() => /** @type {any} */ (globalThis).result)
          if (result.error) throw new Error(`${mode}: ${result.error}`)
          if (server.requests() !== before || result.requests !== 0) throw new Error(`${mode}: the reload reached the server`)
          if (round >= 0) samples.get(mode)?.push(result)
        }
        log(round < 0 ? '  warm-up reloads done' : `  round ${round + 1}/${rounds}`)
      }
      const med = (/** @type {number[]} */ xs) => summarize(xs).median
      const rows = MODES.map(({ mode, label }) => {
        const s = samples.get(mode) ?? []
        return [label, `${fmtNum(med(s.map((x) => x.timeToData)))} ms`, `${fmtNum(med(s.map((x) => x.blocking)))} ms`, `${fmtNum(med(s.map((x) => x.longest)))} ms`, '0']
      })
      const ours = med((samples.get('tiercache') ?? []).map((x) => x.blocking))
      const theirs = med((samples.get('tanstack') ?? []).map((x) => x.blocking))
      return {
        title,
        description:
          `Chromium ${version} (headless, testkit's flags, persistent profile) driven by playwright-core; page and API on 127.0.0.1. The page (bench/src/browser/query-page.mjs, ` +
          `@tanstack/query-core 5.104.5 without React, so that only the persisters differ) persists ${fmtNum(PERSISTED)} product queries (~250 bytes of JSON each), ` +
          `then is reloaded ${rounds} times per persister (after one warm-up reload), the two alternating; each reload mounts ${SHOWN} of the queries (QueryObserver, staleTime 1 day) ` +
          'and waits until all have data. Time to data: performance.now() at that moment (from navigation start). Blocking: the sum over long tasks (PerformanceObserver "longtask") ' +
          'that began before it of their time past 50 ms (total blocking time); longest: the longest such task. Medians of the reloads.',
        columns: ['persister', 'time to data', 'main-thread blocking', 'longest task', 'requests on reload'],
        rows,
        targets: [
          {
            target: `Reload with ${fmtNum(PERSISTED)} persisted queries blocks the main thread less than TanStack's whole-cache persister`,
            measured: `${fmtNum(ours)} ms vs ${fmtNum(theirs)} ms`,
            met: ours <= theirs,
          },
        ],
        notes: [
          'The whole-cache persister stores one JSON string of every query (its default serialize) and must read, parse and hydrate all of it before any query has data; the per-query one reads only the entries of the queries that mount, one IndexedDB read each.',
          'Both read IndexedDB; every reload is checked to reach the server zero times.',
        ],
      }
    })
  },
}

/** The page, its script, and /api/product?id=N (JSON), on 127.0.0.1. @param {string} script */
async function startServer(script) {
  let requests = 0
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (url.pathname === '/api/product') {
      requests++
      const id = Number(url.searchParams.get('id'))
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      return res.end(JSON.stringify({ id, name: `product ${id}`, price: 1000 + id, tags: ['bench', 'browser', 'query'], description: 'A fixed document of a few hundred bytes, as a small API answer would be.' }))
    }
    if (url.pathname === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' })
      return res.end(script)
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    res.end('<!doctype html><meta charset="utf-8"><title>query-persist bench</title><script type="module" src="/page.js"></script>')
  })
  return { ...(await listenOnLoopback(server)), requests: () => requests }
}
