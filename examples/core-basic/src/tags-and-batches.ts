import { createCache, memoryStore } from '@tiercache/core'
import { createSlowDb, type Product } from './db.js'

export async function tagsAndBatches() {
  const db = createSlowDb(5)
  const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m', tags: ['catalog'] } })

  // One read per tier for all keys, one loader call for every miss.
  const ids = [1, 2, 3]
  const products = await cache.getManyOrSet(
    ids.map((id) => `product:${id}`),
    (missing) => db.products(missing.map((key) => Number(key.split(':')[1]))),
    { ttl: '10m', tags: ['products'] },
  )

  // Per key instead of all-or-nothing: a key whose load failed with nothing cached is undefined, its error in `errors`.
  const errors: unknown[] = []
  const some = await cache.getManyOrSet<Product>(['product:1', 'product:7'], () => Promise.reject(new Error('database down')), undefined, { errors })
  // some: [product 1 from the cache, undefined]; errors[1]: Error('database down')

  // After a write to the database, every entry tagged 'products' stops being served, in every tier.
  db.update(2, { price: 99 })
  await new Promise((resolve) => setTimeout(resolve, 2)) // (entries created in the same millisecond count as invalidated)
  await cache.invalidateTags(['products'])
  const fresh = await cache.getOrSet('product:2', () => db.product(2), { ttl: '10m', tags: ['products'] })
  return { products, some, errors, fresh, batchCalls: db.calls.products, singleCalls: db.calls.product }
}
