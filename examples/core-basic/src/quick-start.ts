import { createCache, memoryStore } from '@tiercache/core'
import { createSlowDb } from './db.js'

export async function quickStart() {
  const db = createSlowDb()
  const cache = createCache({
    tiers: [memoryStore({ maxEntries: 10_000 })],
    policy: { ttl: '5m', swr: '1m', staleIfError: '1h' },
  })

  // Cache-aside: the first call loads, the next ones answer from memory.
  const first = await cache.getOrSet('product:1', () => db.product(1))
  const again = await cache.getOrSet('product:1', () => db.product(1))

  console.log(first?.name, again?.name, db.calls.product) // Product 1 Product 1 1
  console.log(cache.cacheControl()) // public, max-age=300, stale-while-revalidate=60, stale-if-error=3600
  return { first, again, loads: db.calls.product, cacheControl: cache.cacheControl(), stats: cache.stats() }
}
