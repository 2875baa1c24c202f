import type { BusEvent } from '@tiercache/redis'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { createApp } from '../src/app.js'
import { Catalogue, type Product } from '../src/catalogue.js'
import { createOriginCache, type OriginCache } from '../src/origin-cache.js'
import { startWorker, type Worker } from './worker-process.js'

// One redis-server: the demo Worker reaches it over HTTP (testkit's Upstash endpoint, as a Worker reaches Upstash),
// the origin server over TCP. Both use the namespace 'demo', the prefix 'tc:' and the tags product:<id>.
let worker: Worker
let origin: OriginCache
let catalogue: Catalogue
let app: Hono
const bus: BusEvent[] = []

beforeAll(async () => {
  catalogue = new Catalogue()
  origin = createOriginCache({ redisUrl: inject('REDIS_URL'), onBus: (e) => bus.push(e) })
  app = createApp({ cache: origin.cache, catalogue })
  worker = await startWorker({ UPSTASH_REDIS_REST_URL: inject('UPSTASH_TEST_URL'), UPSTASH_REDIS_REST_TOKEN: inject('UPSTASH_TEST_TOKEN') })
})
afterAll(async () => {
  await worker?.stop()
  await origin?.close()
  catalogue?.close()
})

interface Batch {
  products: Product[]
  loadedFromOrigin: string[]
}

async function workerBatch(ids: string): Promise<Batch> {
  const response = await fetch(`${worker.url}/api/products?ids=${ids}`)
  expect(response.status).toBe(200)
  return (await response.json()) as Batch
}

async function originProduct(id: number): Promise<Product> {
  return (await (await app.request(`/api/products/${id}`)).json()) as Product
}

describe('the origin server and the demo Worker share one Redis', () => {
  it('an entry the origin stored (from SQLite) is served by the Worker from its L2, without its own origin', async () => {
    await app.request('/api/products/11', { method: 'POST', body: JSON.stringify({ price: 1_111 }), headers: { 'content-type': 'application/json' } })
    await origin.cache.idle()
    const batch = await workerBatch('11')
    expect(batch.loadedFromOrigin).toEqual([])
    expect(batch.products[0]).toMatchObject({ id: 11, price: 1_111, version: 2 })
  })

  it('a change made through the origin is what the Worker serves next (within its tag staleness bound)', async () => {
    expect((await workerBatch('12')).products[0]?.version).toBe(1) // cached by the Worker, from its own origin
    await app.request('/api/products/12', { method: 'POST', body: JSON.stringify({ price: 2_222 }), headers: { 'content-type': 'application/json' } })
    const started = Date.now()
    await expect.poll(async () => (await workerBatch('12')).products[0]?.price, { timeout: 15_000, interval: 250 }).toBe(2_222)
    console.log(`[shared] the Worker served the origin's update after ${Date.now() - started} ms`)
  })

  it('a change made through the Worker invalidates what the origin serves', async () => {
    const before = await originProduct(13)
    expect(before.version).toBe(1)
    const queries = catalogue.queries
    expect((await originProduct(13)).version).toBe(1)
    expect(catalogue.queries).toBe(queries) // a cache hit
    const response = await fetch(`${worker.url}/api/products/13`, { method: 'POST', body: JSON.stringify({ price: 3_333 }), headers: { 'content-type': 'application/json' } })
    expect(response.status).toBe(200)
    const started = Date.now()
    // The Worker's invalidation script published tag product:13 on the Redis bus: the origin heard it (a loopback
    // message, milliseconds; the bound is many times that and still below the 5 s tagCacheTtl it waited before, so
    // that only the bus can pass it)...
    const heard = (): boolean => bus.some((e) => e.type === 'tags' && e.tags.some((tag) => tag.endsWith('product:13')))
    await expect.poll(heard, { timeout: 4_000, interval: 10 }).toBe(true)
    console.log(`[shared] the origin heard the Worker's invalidation on the bus ${Date.now() - started} ms after the update`)
    // ...and its very next read of the product goes to SQLite.
    await originProduct(13)
    expect(catalogue.queries).toBeGreaterThan(queries)
  })
})
