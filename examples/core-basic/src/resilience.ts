import { createCache, memoryStore } from '@tiercache/core'
import { createSlowDb } from './db.js'

/** A clock the example moves by hand, so it shows hours of cache life in milliseconds. */
function manualClock() {
  let t = Date.UTC(2026, 0, 1)
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

export async function resilience() {
  const db = createSlowDb(5)
  const clock = manualClock()
  const cache = createCache({
    tiers: [memoryStore()],
    policy: { ttl: '5m', swr: '1m', staleIfError: '1h', negativeTtl: '30s' },
    now: clock.now, // injectable clock; Date.now by default
  })
  const load = () => db.product(1)

  await cache.getOrSet('product:1', load) // miss: loads
  clock.advance(5 * 60_000 + 1) // past ttl, inside swr
  const stale = await cache.getOrSet('product:1', load) // answered at once, refreshed in the background
  await cache.idle() // (only so this example can count the refresh)

  db.fail(true)
  clock.advance(10 * 60_000) // past ttl and swr, inside staleIfError
  const duringOutage = await cache.getOrSet('product:1', load) // the loader fails: the stale value answers
  db.fail(false)

  const missing = await cache.getOrSet('product:999', () => db.product(999)) // null, cached for 30 s
  return { stale, duringOutage, missing, loads: db.calls.product, stats: cache.stats() }
}
