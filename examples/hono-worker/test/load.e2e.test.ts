// The demo Worker under concurrent load and faults (issue 9): started as `npm run demo` starts it (wrangler dev on
// 127.0.0.1), 50 requests in flight, before / during / after each fault, with the in-memory L2 and with the Upstash
// L2 (testkit's endpoint over a redis-server of its own). scripts/load.mjs drives it; `npm run bench` runs the same
// with 10,000 requests at concurrency 100 and writes the table to BENCHMARKS.md.
//
// Every bound here is a count, or many times the expected value and far from what a fault would cause: this runs on
// shared 2-core machines next to other test packages.
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatTable, ORIGIN_MAX_MS, PRODUCTS, runLoad, SLOW_ENDPOINT_MS, TIER_TIMEOUT_MS, TTL_MS, type PhaseResult } from '../scripts/load.mjs'

const REQUESTS = 3_000
const CONCURRENCY = 50
/** What a fault may add to a request at most: one tier timeout, and the database. */
const FAULT_COST_MS = TIER_TIMEOUT_MS + ORIGIN_MAX_MS

const logOf = (l2: string): string => join(tmpdir(), `tiercache-load-${process.pid}-${l2}.log`)

let phases: PhaseResult[] = []
let totals: Awaited<ReturnType<typeof runLoad>>['totals'] = {}

beforeAll(async () => {
  const result = await runLoad({
    requests: REQUESTS,
    concurrency: CONCURRENCY,
    // Products stay servable (stale within swr) for the whole run, however slow this shared machine makes it: a
    // miss after a fault is then the fault's doing, not a product that aged out meanwhile. (npm run bench keeps the
    // demo's 10 s and a database outage past the ttl, so that stale-if-error answers there.)
    productSwr: '5m',
    log: (line) => console.info(`[load] ${line}`),
    // The Worker's log (wrangler's, workerd's warnings), for a failure to be looked into.
    onOutput: (l2, output) => writeFileSync(logOf(l2), output),
  })
  phases = result.phases
  totals = result.totals
  writeFileSync(join(tmpdir(), `tiercache-load-${process.pid}.json`), JSON.stringify(result, null, 1))
  console.info(`\n${formatTable(phases)}\n`)
}, 600_000)

afterAll(() => {
  phases = []
})

const of = (l2: string, fault: string, stage: PhaseResult['stage']): PhaseResult => {
  const phase = phases.find((p) => p.l2 === l2 && p.fault === fault && p.stage === stage)
  if (phase === undefined) throw new Error(`no phase ${l2}/${fault}/${stage}`)
  return phase
}

describe.each(['memory', 'upstash'])('the demo Worker with the %s L2, under load and faults', (l2) => {
  const faults = l2 === 'upstash' ? ['endpoint-500', 'endpoint-slow', 'redis-restart', 'origin-down'] : ['origin-down']

  it(`answers at least ${REQUESTS} requests at concurrency ${CONCURRENCY}, none failed and none cancelled by the runtime`, () => {
    const total = totals[l2]
    expect(total?.requests).toBeGreaterThanOrEqual(REQUESTS)
    // Where a tier or the origin can answer: only while the database is down may a request fail, and only one whose
    // tier failed too (an L2 call past its timeout on an overloaded machine): at most one load per tier error. The
    // requests that joined such a load (Cache-Status `collapsed`) share its one failure: counted with it, not
    // against it (one L2 timeout, five requests for that product in flight, five 503s: run 23140 of issue 9).
    const unanswerable = (p: PhaseResult): number =>
      p.fault === 'origin-down' && p.stage === 'during' ? p.tierErrors.reduce((a, b) => a + b, 0) + p.failedJoined : 0
    const failures = phases
      .filter((p) => p.l2 === l2 && p.failed > unanswerable(p))
      .map((p) => `${p.fault}/${p.stage}: ${p.failed} failed (${p.failedJoined} joined a failed load), ${p.tierErrors.join('/')} tier errors (${p.samples.join('; ')})`)
    expect(failures, `the Worker's log: ${logOf(l2)}`).toEqual([])
    expect(total?.cancellations, `the Worker's log: ${logOf(l2)}`).toBe(0)
    // A reloaded isolate (wrangler restarting the Worker) loses every in-memory state: the phases would not say
    // anything about the cache.
    expect(phases.filter((p) => p.l2 === l2 && p.restarted).map((p) => `${p.fault}/${p.stage}`), `the Worker's log: ${logOf(l2)}`).toEqual([])
  })

  it.each(faults)('keeps p99 within a tier timeout plus the database of the p99 before the fault: %s', (fault) => {
    const before = of(l2, fault, 'before')
    const during = of(l2, fault, 'during')
    // Four times what the fault may add: a request that waited for the fault itself (a 5 s endpoint, say) breaks it.
    expect(during.p99 - before.p99).toBeLessThan(4 * FAULT_COST_MS)
    expect(during.p99).toBeLessThan(SLOW_ENDPOINT_MS + before.p99)
  })

  it.each(faults)('queries the database about once per product and ttl window, not once per request: %s', (fault) => {
    for (const stage of ['before', 'during', 'after'] as const) {
      const phase = of(l2, fault, stage)
      // Products loaded once per ttl window of the phase (plus the window it starts in), a batch query counted once
      // per product it asks for; three times that as margin. A query per request would be far above it.
      const windows = Math.ceil(phase.durationMs / TTL_MS) + 1
      expect(phase.dbQueries, `${fault}/${stage}: ${phase.dbQueries} queries for ${phase.requests} requests`).toBeLessThanOrEqual(3 * PRODUCTS * windows)
    }
  })

  it.each(faults)('has the hit rate back within 5 points of before within 5 s after the fault ends: %s', (fault) => {
    const before = of(l2, fault, 'before').hitRate
    const after = of(l2, fault, 'after')
    // The hit rate of the requests sent 5 s or more after the fault ended (recoveryMs, in the table, says when
    // every 50 requests in a row were back).
    // Each L1 miss whose L2 read failed is a miss; from 5 s after the fault, such failures are the machine's (the L2
    // stand-in answering after the 1 s timeout under load: seen before faults too), not left over from the fault.
    const message =
      `hit rate before ${before.toFixed(3)}, from 5 s after ${after.hitRateAfter5s?.toFixed(3)}, back after ${after.recoveryMs} ms; ` +
      `tier errors (L1/L2) from 5 s after: ${after.lateTierErrors?.join('/')}, before the fault: ${of(l2, fault, 'before').tierErrors.join('/')}; ` +
      `p50 ${Math.round(after.p50)} ms; first misses: ${after.misses.slice(0, 5).join('; ')}`
    expect(after.hitRateAfter5s, message).toBeGreaterThanOrEqual(before - 0.05)
  })
})
