import { createCache, hotKeys, memoryStore, warm, type WarmProgress } from '@tiercache/core'
import { createSlowDb } from './db.js'

/** One process's life: it learns its hot keys, saves them at shutdown; the next one warms them at start. */
export async function warmingExample() {
  const db = createSlowDb(1)
  const load = ({ key }: { key: string }) => db.product(Number(key.split(':')[1]))

  // Process 1 counts what it reads.
  const before = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' }, strategies: [hotKeys({ track: 100 })] })
  for (let i = 0; i < 2_000; i++) await before.getOrSet(`product:${1 + (i % 10) * (i % 3)}`, load)
  const saved = before.hotKeys(10).map((hot) => hot.key) // at shutdown: saved to a file or a table

  // Process 2 warms them at start, without slamming the database: 2 at a time, at most 100 loads a second.
  const after = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' } })
  const progress: WarmProgress[] = []
  const result = await warm(after, saved, load, {
    concurrency: 2,
    ratePerSecond: 100,
    onProgress: (p) => progress.push(p), // p.done of p.total: a progress bar
  })
  const loadsBeforeTraffic = db.calls.product
  for (const key of saved) await after.getOrSet(key, load) // the first requests are hits
  return { saved, result, progress, loadsByTraffic: db.calls.product - loadsBeforeTraffic, stats: after.stats() }
}
