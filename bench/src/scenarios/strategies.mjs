// Scenario: the read and write strategies of issue 15, measured as counts on simulated workloads (an injected
// clock: hours of traffic in seconds, the same counts on every machine), and the hot-hit cost of installing them.
import { loadCore } from '../adapters/tiercache.mjs'
import { permutation, seeded, zipf } from '../hit-ratio/traces.mjs'
import { fmtNs, median } from '../stats.mjs'

const SECOND = 1_000
const MINUTE = 60 * SECOND

/** @param {number} n */
const int = (n) => Math.round(n).toLocaleString('en-US')

/** A clock the caches read; the scenario moves it. */
function manualClock(start = Date.UTC(2026, 0, 1)) {
  let t = start
  return { now: () => t, advance: (/** @type {number} */ ms) => void (t += ms) }
}

/**
 * An async Map-backed tier that counts the calls a remote store (Redis, KV) would receive.
 * @param {string} name
 */
function countingStore(name) {
  /** @type {Map<string, unknown>} */
  const map = new Map()
  const calls = { get: 0, set: 0, setMany: 0, written: 0 }
  return {
    calls,
    store: {
      name,
      async get(/** @type {string} */ key) {
        calls.get++
        return map.get(key)
      },
      async set(/** @type {string} */ key, /** @type {unknown} */ entry) {
        calls.set++
        calls.written++
        map.set(key, entry)
      },
      async delete(/** @type {string} */ key) {
        map.delete(key)
      },
      async setMany(/** @type {[string, unknown][]} */ items) {
        calls.setMany++
        calls.written += items.length
        for (const [key, entry] of items) map.set(key, entry)
      },
    },
  }
}

/**
 * Refresh-ahead: one hot key read every second and 20 cold keys read every 50 s, for an hour, ttl 60 s.
 * @param {any} core
 */
async function refreshAheadRows(core) {
  const modes = [
    { label: 'ttl 60s', policy: { ttl: '60s' }, strategies: [] },
    { label: 'ttl 60s, swr 60s', policy: { ttl: '60s', swr: '60s' }, strategies: [] },
    { label: 'ttl 60s, refreshAhead 0.8', policy: { ttl: '60s', refreshAhead: 0.8 }, strategies: [core.refreshAhead()] },
  ]
  const rows = []
  const HOUR = 3_600
  for (const mode of modes) {
    const clock = manualClock()
    const hot = core.createCache({ tiers: [core.memoryStore()], policy: mode.policy, strategies: mode.strategies, now: clock.now })
    const cold = core.createCache({ tiers: [core.memoryStore()], policy: mode.policy, strategies: mode.strategies, now: clock.now })
    let hotRuns = 0
    let coldRuns = 0
    const loadHot = () => ({ run: ++hotRuns })
    const loadCold = (/** @type {{ key: string }} */ ctx) => ({ key: ctx.key, run: ++coldRuns })
    for (let s = 0; s < HOUR; s++) {
      await hot.getOrSet('hot', loadHot)
      if (s % 50 === 0) for (let k = 0; k < 20; k++) await cold.getOrSet(`cold:${k}`, loadCold)
      await hot.idle()
      await cold.idle()
      clock.advance(SECOND)
    }
    const h = hot.stats()
    const c = cold.stats()
    rows.push([
      mode.label,
      int(h.hits + h.staleHits + h.misses),
      int(h.misses),
      int(h.staleHits),
      int(hotRuns),
      `${int(c.misses)} of ${int(c.hits + c.staleHits + c.misses)}`,
      int(coldRuns),
    ])
  }
  return {
    title: 'Refresh-ahead: readers of a hot key never wait, cold keys are left alone',
    description:
      'Simulated hour on an injected clock (the same counts on every machine): one hot key read every second, 20 cold keys read every 50 s, ' +
      'memoryStore, a loader that answers at once, background work awaited after each second. "Waited for the loader" = reads that found no ' +
      'servable entry (misses; the first read of each key is one). refreshAhead 0.8 = `createCache({ strategies: [refreshAhead()], policy: { ttl: ' +
      "'60s', refreshAhead: 0.8 } })`: a fresh entry read past 48 s of its 60 s, and read at least twice (minReads, default 2) since it was " +
      'written, is refreshed in the background.',
    columns: ['policy', 'hot reads', 'hot reads that waited for the loader', 'hot reads answered stale', 'hot loader runs', 'cold reads that missed', 'cold loader runs'],
    rows,
    notes: ['A cold key is read once per entry life here, under minReads: refresh-ahead leaves it to expire, so it costs no more loads than ttl alone.'],
  }
}

/**
 * Sliding expiry: 200 sessions, each read once a minute for 3 hours, ttl 30 min, maxAge 2 h, memory L1 + a counted
 * async L2.
 * @param {any} core
 */
async function slidingRows(core) {
  const SESSIONS = 200
  const MINUTES = 180
  const modes = [
    { label: 'ttl 30m', policy: { ttl: '30m' }, strategies: [] },
    { label: "ttl 30m, sliding, maxAge 2h", policy: { ttl: '30m', sliding: true, maxAge: '2h' }, strategies: [core.slidingExpiry()] },
  ]
  const rows = []
  for (const mode of modes) {
    const clock = manualClock()
    const l2 = countingStore('l2')
    const cache = core.createCache({ tiers: [core.memoryStore(), l2.store], policy: mode.policy, strategies: mode.strategies, now: clock.now })
    let logins = 0
    const login = (/** @type {{ key: string }} */ ctx) => ({ user: ctx.key, login: ++logins })
    for (let m = 0; m < MINUTES; m++) {
      // Every session is read within one turn of the event loop, as requests arriving together.
      await Promise.all(Array.from({ length: SESSIONS }, (_, i) => cache.getOrSet(`session:${i}`, login)))
      await cache.idle()
      clock.advance(MINUTE)
    }
    const reads = SESSIONS * MINUTES
    const s = cache.stats()
    rows.push([mode.label, int(reads), int(s.misses), int(l2.calls.written), int(l2.calls.set + l2.calls.setMany), ((1_000 * l2.calls.written) / reads).toFixed(0)])
  }
  return {
    title: 'Sliding expiry: sessions stay alive while used, without a write per read',
    description:
      'Simulated 3 hours on an injected clock: 200 sessions, each read once a minute, all 200 in one turn of the event loop; tiers ' +
      '`[memoryStore(), L2]` where L2 is an async Map that counts calls (as Redis would receive them). "Logins" = reads that found no session ' +
      '(the first read of each is one). Sliding = `strategies: [slidingExpiry()], policy: { ttl: \'30m\', sliding: true, maxAge: \'2h\' }`: a ' +
      'read extends the entry to another 30 min in every tier, at most once per key per tenth of the ttl (3 min), touches of one turn batched ' +
      'into one setMany per tier, never past 2 h after the session was created.',
    columns: ['policy', 'reads', 'logins (reads without a session)', 'entries written to L2', 'L2 write calls', 'entries written per 1,000 reads'],
    rows,
    notes: ['Without sliding a session in use ends every 30 min; with it, only at maxAge (2 h): logins = 200 at start + 200 per 2 h cap.'],
  }
}

/**
 * Write-behind: 100,000 writes to 1,000 keys with the memory queue: what the database receives.
 * @param {any} core
 * @param {boolean} quick
 */
async function writeBehindRows(core, quick) {
  const WRITES = quick ? 20_000 : 100_000
  const KEYS = 1_000
  const rows = []
  for (const maxBatch of [100, 500]) {
    const cache = core.createCache({ tiers: [core.memoryStore({ maxEntries: 10_000 })], policy: { ttl: '1h' } })
    let batches = 0
    let rowsWritten = 0
    const writes = core.createWriteBehind({
      cache,
      maxBatch,
      flushInterval: '1s',
      persist: (/** @type {unknown[]} */ batch) => {
        batches++
        rowsWritten += batch.length
      },
    })
    // Keys drawn uniformly from a fixed-seed generator: the same sequence on every run.
    const random = seeded(20_261_203)
    const started = process.hrtime.bigint()
    for (let i = 0; i < WRITES; i++) await writes.set(`row:${Math.floor(random() * KEYS)}`, { i })
    const ackNs = Number(process.hrtime.bigint() - started) / WRITES
    await writes.close()
    rows.push([`memoryWriteQueue, maxBatch ${maxBatch}`, int(WRITES), int(KEYS), int(batches), int(rowsWritten), fmtNs(ackNs)])
  }
  return {
    title: 'Write-behind: what the database receives',
    description:
      `${int(WRITES)} writes (\`writes.set(key, value)\`, each awaited: acknowledged once the cache and the queue hold it) to ${int(KEYS)} keys drawn ` +
      'at random (fixed seed), `createWriteBehind({ cache, persist, maxBatch, flushInterval: \'1s\' })` with the default in-memory queue, then ' +
      '`close()`. A batch reaching maxBatch starts a flush at once; several writes of one key in a batch are coalesced into the newest. Write-through ' +
      'would make one database write per write. The acknowledgement time is wall clock (noisy on this shared machine).',
    columns: ['queue', 'writes', 'keys', 'persist calls (batches)', 'rows written', 'mean time to acknowledge a write'],
    rows,
    notes: [
      'The durable queues are tested, not benchmarked here: Redis Streams (@tiercache/redis, a flusher killed mid-batch loses no acknowledged write: packages/redis/test/write-behind-processes.test.ts) and Cloudflare Queues (@tiercache/edge, in miniflare).',
    ],
  }
}

/**
 * One warm() over `count` keys of which the first `fresh` are already cached, with a loader that yields once.
 * @param {any} core
 * @param {number} count
 * @param {number} fresh
 * @param {Record<string, number>} options
 */
async function warmRun(core, count, fresh, options) {
  const cache = core.createCache({ tiers: [core.memoryStore()], policy: { ttl: '1h' } })
  for (let i = 0; i < fresh; i++) await cache.set(`product:${i}`, { id: i })
  let calls = 0
  let running = 0
  let peak = 0
  const keys = Array.from({ length: count }, (_, i) => `product:${i}`)
  const started = process.hrtime.bigint()
  const result = await core.warm(
    cache,
    keys,
    async (/** @type {{ key: string }} */ ctx) => {
      calls++
      peak = Math.max(peak, ++running)
      await new Promise((resolve) => setImmediate(resolve))
      running--
      return { key: ctx.key }
    },
    options,
  )
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  return { calls, fresh: result.fresh, peak, ms }
}

/**
 * Warming: 2,000 keys of which 500 are already fresh, concurrency 8; then 200 keys paced at 500 a second.
 * @param {any} core
 */
async function warmRows(core) {
  const rows = []
  const all = await warmRun(core, 2_000, 500, { concurrency: 8 })
  rows.push(['2,000 keys, 500 fresh; concurrency 8', int(all.calls), int(all.fresh), int(all.peak), `${all.ms.toFixed(0)} ms`, 'n/a'])
  const paced = await warmRun(core, 200, 0, { concurrency: 8, ratePerSecond: 500 })
  rows.push(['200 keys; concurrency 8, ratePerSecond 500', int(paced.calls), int(paced.fresh), int(paced.peak), `${paced.ms.toFixed(0)} ms`, `${((1_000 * paced.calls) / paced.ms).toFixed(0)}/s`])
  return {
    title: 'Warming: paced, skipping what is fresh',
    description:
      '`warm(cache, keys, loader, { concurrency, ratePerSecond })` over a memoryStore cache; the loader yields once (setImmediate) and counts ' +
      'how many of its calls overlap. Elapsed time is wall clock: with ratePerSecond 500, 200 loader calls take about 400 ms by design.',
    columns: ['run', 'loader calls', 'keys skipped as fresh', 'most loader calls at once', 'elapsed', 'loader calls per second'],
    rows,
  }
}

/**
 * Hot keys: top 100 of a Zipf(1.0) stream of 1,000,000 reads over 100,000 keys, against exact counts.
 * @param {any} core
 * @param {boolean} quick
 */
async function hotKeyRows(core, quick) {
  const READS = quick ? 200_000 : 1_000_000
  const KEYS = 100_000
  const cache = core.createCache({ tiers: [core.memoryStore({ maxEntries: 1_000 })], policy: { ttl: '1h' }, strategies: [core.hotKeys({ track: 1_000 })] })
  const random = seeded(20_261_203)
  const rank = zipf(KEYS, 1, random)
  // Key names shuffled so that they do not follow popularity.
  const names = permutation(KEYS, random)
  /** @type {Map<string, number>} */
  const exact = new Map()
  const load = () => 1
  for (let r = 0; r < READS; r++) {
    const key = `item:${names[rank()]}`
    exact.set(key, (exact.get(key) ?? 0) + 1)
    await cache.getOrSet(key, load)
  }
  const rows = []
  const truth = [...exact.entries()].sort((a, b) => b[1] - a[1])
  for (const n of [10, 100, 1_000]) {
    const listed = cache.hotKeys(n)
    const top = new Set(truth.slice(0, n).map(([key]) => key))
    const found = listed.filter((/** @type {{ key: string }} */ h) => top.has(h.key)).length
    const errors = listed.map((/** @type {{ key: string, reads: number }} */ h) => h.reads - (exact.get(h.key) ?? 0))
    rows.push([`top ${int(n)}`, `${((100 * found) / n).toFixed(1)}%`, int(Math.max(...errors)), median(errors).toFixed(0), int(/** @type {number} */ (truth[n - 1]?.[1]))])
  }
  return {
    title: 'Hot keys: the most read keys, in bounded memory',
    description:
      `${int(READS)} getOrSet reads over ${int(KEYS)} keys drawn from Zipf(1.0) (fixed seed), \`strategies: [hotKeys({ track: 1000 })]\`; ` +
      '`cache.hotKeys(n)` against the exact counts of the same stream. Estimates come from a count-min sketch and can only be too high.',
    columns: ['list', 'true top-n keys listed', 'largest over-count (reads)', 'median over-count', 'reads of the n-th key (exact)'],
    rows,
  }
}

/**
 * The hot-hit cost of installing the strategies: getOrSet on fresh memory keys with none, and with refresh-ahead,
 * sliding and hot keys installed and asked for by the policy (no refresh or touch is due).
 * @param {any} core
 * @param {boolean} quick
 */
async function hotHitCost(core, quick) {
  const variants = [
    { label: 'no strategies', strategies: () => [], policy: { ttl: '1h' } },
    { label: 'refreshAhead() (policy refreshAhead 0.8)', strategies: () => [core.refreshAhead()], policy: { ttl: '1h', refreshAhead: 0.8 } },
    { label: 'slidingExpiry() (policy sliding)', strategies: () => [core.slidingExpiry()], policy: { ttl: '1h', sliding: true } },
    { label: 'hotKeys()', strategies: () => [core.hotKeys()], policy: { ttl: '1h' } },
  ]
  const keys = Array.from({ length: 1_000 }, (_, i) => `key:${i}`)
  const caches = []
  for (const v of variants) {
    const cache = core.createCache({ tiers: [core.memoryStore({ maxEntries: 10_000 })], policy: v.policy, strategies: v.strategies() })
    for (const key of keys) await cache.getOrSet(key, () => key)
    caches.push(cache)
  }
  const OPS = quick ? 100_000 : 400_000
  const ROUNDS = quick ? 3 : 7
  /** @type {number[][]} */
  const samples = variants.map(() => [])
  const load = () => 'x'
  for (let round = -1; round < ROUNDS; round++) {
    for (let j = 0; j < variants.length; j++) {
      const v = (j + Math.max(round, 0)) % variants.length
      const cache = caches[v]
      const started = process.hrtime.bigint()
      for (let i = 0; i < OPS; i++) await cache.getOrSet(/** @type {string} */ (keys[i % 1_000]), load)
      if (round >= 0) samples[v]?.push(Number(process.hrtime.bigint() - started) / OPS)
    }
  }
  const base = median(/** @type {number[]} */ (samples[0]))
  return {
    title: 'Strategies: the cost of a hot hit',
    description:
      `getOrSet on 1,000 fresh keys of a memoryStore in rotation, ${int(OPS)} awaited calls per slice, ${ROUNDS} measured rounds after one warm-up, ` +
      'variants interleaved with the order rotating every round. Each strategy installed and, where it serves a policy option, asked for by the ' +
      'policy, on keys whose entries are nowhere near a refresh or a touch: the price every read pays for having it.',
    columns: ['cache', 'median ns per hot hit', 'ratio to no strategies'],
    rows: variants.map((v, i) => {
      const m = median(/** @type {number[]} */ (samples[i]))
      return [v.label, fmtNs(m), `${(m / base).toFixed(2)}x`]
    }),
  }
}

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'strategies',
  async run({ quick, log }) {
    let core
    try {
      core = await loadCore()
      if (typeof core.refreshAhead !== 'function' || typeof core.warm !== 'function') throw new Error('this build of @tiercache/core has no strategies')
    } catch (error) {
      return { title: 'Strategies', columns: ['could not run'], rows: [[error instanceof Error ? error.message : String(error)]] }
    }
    const tables = []
    for (const [name, make] of /** @type {const} */ ([
      ['refresh-ahead', () => refreshAheadRows(core)],
      ['sliding', () => slidingRows(core)],
      ['write-behind', () => writeBehindRows(core, quick)],
      ['warming', () => warmRows(core)],
      ['hot keys', () => hotKeyRows(core, quick)],
      ['hot-hit cost', () => hotHitCost(core, quick)],
    ])) {
      const t0 = Date.now()
      tables.push(await make())
      log(`  ${name} done (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
    }
    return tables
  },
}
