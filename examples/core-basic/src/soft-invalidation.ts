import { createCache, memoryStore } from '@tiercache/core'
import { createSlowDb } from './db.js'

export async function softInvalidation() {
  const db = createSlowDb(5)
  const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m', swr: '1m', tags: ['products'] } })
  const load = (id: number) => cache.getOrSet(`product:${id}`, () => db.product(id))
  await load(1)
  await load(2)

  // After a price change: 'products' entries turn stale instead of gone. Readers keep getting an answer at once
  // (within swr) while one refresh per key reloads it; every process sharing the coordinator sees the same.
  db.update(1, { price: 99 })
  await cache.invalidateTags(['products'], { mode: 'soft' })
  await new Promise((resolve) => setTimeout(resolve, 2)) // (a load begun in the same millisecond counts as invalidated)
  const during = await load(1) // the old price, answered without waiting; the refresh runs
  await cache.idle()
  const after = await load(1) // the new price

  // One key: expire is the soft delete. Its entry is stale from now on (for its swr length), refreshed on next read.
  await cache.expire('product:2')
  return { during: during?.price, after: after?.price, loads: db.calls.product }
}
