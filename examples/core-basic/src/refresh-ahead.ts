import { createCache, memoryStore, refreshAhead } from '@tiercache/core'
import { createSlowDb } from './db.js'

/** A clock the example moves by hand. */
function manualClock() {
  let t = Date.UTC(2026, 0, 1)
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

/** A price read all the time never expires under its readers: it is reloaded in the background before it does. */
export async function refreshAheadExample() {
  const db = createSlowDb(5)
  const clock = manualClock()
  const cache = createCache({
    tiers: [memoryStore()],
    policy: { ttl: '5m', refreshAhead: 0.8 }, // refreshed once read past 4 of its 5 minutes...
    strategies: [refreshAhead()], // ...by this strategy (bundled only by apps that import it)
    now: clock.now,
  })
  const load = () => db.product(1)

  await cache.getOrSet('product:1', load) // the first read loads
  // Read every 30 seconds for an hour: every read is a hit, reloads happen in the background.
  for (let t = 0; t < 120; t++) {
    clock.advance(30_000)
    await cache.getOrSet('product:1', load)
    await cache.idle() // (only so this example can count the refreshes)
  }
  // A key read once is left to expire: refresh-ahead is for hot keys (read twice since written, by default).
  await cache.getOrSet('product:2', () => db.product(2))
  clock.advance(4.5 * 60_000)
  await cache.getOrSet('product:2', () => db.product(2))
  await cache.idle()
  return { loads: db.calls.product, refreshes: cache.stats().refreshes, misses: cache.stats().misses }
}
