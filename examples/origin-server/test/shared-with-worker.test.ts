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

beforeAll(async () => {
  catalogue = new Catalogue()
  origin = createOriginCache({ redisUrl: inject('REDIS_URL') })
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

describe('the origin server and the demo Worker share one Redis', () => {
  it('an entry the origin stored (from SQLite) is served by the Worker from its L2, without its own origin', async () => {
    await app.request('/api/products/11', { method: 'POST', body: JSON.stringify({ price: 1_111 }), headers: { 'content-type': 'application/json' } })
    await origin.cache.idle()
    const batch = await workerBatch('11')
    expect(batch.loadedFromOrigin).toEqual([])
    expect(batch.products[0]).toMatchObject({ id: 11, price: 1_111, version: 2 })
  })
})
