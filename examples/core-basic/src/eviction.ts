import { createCache, memoryStore } from '@tiercache/core'

/** Fills a cache of 1,000 entries the way a shop does over a day, with one eviction policy or another. */
export async function eviction(eviction: 'lru' | 'lfu' | 'fifo') {
  let loads = 0
  const load = ({ key }: { key: string }) => (loads++, { key })
  const popular = Array.from({ length: 200 }, (_, i) => `product:${i}`)

  const cache = createCache({
    tiers: [memoryStore({ maxEntries: 1_000, eviction })], // 'lfu' here; 'lru' by default; or 'fifo'
    policy: { ttl: '10m' },
  })

  // The popular products are read all day...
  for (let round = 0; round < 5; round++) for (const key of popular) await cache.getOrSet(key, load)
  // ...then an export reads each of 20,000 other products once, while shoppers keep reading the popular ones.
  for (let id = 0; id < 20_000; id++) {
    await cache.getOrSet(`export:${id}`, load)
    if (id % 10 === 0) await cache.getOrSet(popular[(id / 10) % popular.length] as string, load)
  }
  // With 'lfu' the popular ones are still in memory: reading them again loads nothing.
  const before = loads
  for (const key of popular) await cache.getOrSet(key, load)
  return { reloadedAfterExport: loads - before }
}
