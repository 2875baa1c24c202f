import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BusEvent } from '@tiercache/redis'
import type { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { createApp } from '../src/app.js'
import { Catalogue, type Product } from '../src/catalogue.js'
import { createOriginCache, type OriginCache } from '../src/origin-cache.js'

interface Server {
  app: Hono
  catalogue: Catalogue
  origin: OriginCache
  bus: BusEvent[]
}

// Two origin servers in front of one SQLite file and one Redis, as behind a load balancer.
const dir = mkdtempSync(join(tmpdir(), 'tiercache-origin-'))
let a: Server
let b: Server

function start(): Server {
  const catalogue = new Catalogue(join(dir, 'catalogue.db'))
  const bus: BusEvent[] = []
  // Each run gets its own namespace on the shared redis-server.
  const origin = createOriginCache({ redisUrl: inject('REDIS_URL'), namespace: `origin-test-${process.pid}`, onBus: (e) => bus.push(e) })
  return { app: createApp({ cache: origin.cache, catalogue }), catalogue, origin, bus }
}

beforeAll(async () => {
  a = start()
  b = start()
  // Both buses are up (their heartbeat came back) before the first test.
  for (let i = 0; !(a.origin.coordinator.bus?.up && b.origin.coordinator.bus?.up); i++) {
    if (i > 500) throw new Error('the bus did not come up within 10 s')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
})
afterAll(async () => {
  for (const s of [a, b]) {
    await s?.origin.close()
    s?.catalogue.close()
  }
  rmSync(dir, { recursive: true, force: true })
})

async function product(s: Server, id: number): Promise<Product> {
  const response = await s.app.request(`/api/products/${id}`)
  expect(response.status).toBe(200)
  return (await response.json()) as Product
}

describe('origin server: memory L1 + Redis L2 + the bus, in front of SQLite', () => {
  it('a product loaded by one server is served by the other from Redis, without a database query', async () => {
    const first = await product(a, 1)
    expect(first).toMatchObject({ id: 1, name: 'Walnut desk lamp', version: 1 })
    await a.origin.cache.idle()
    const queries = a.catalogue.queries + b.catalogue.queries
    expect(await product(b, 1)).toEqual(first)
    expect(a.catalogue.queries + b.catalogue.queries).toBe(queries)
  })

  it('an update through one server is what the other serves next, within milliseconds (the bus)', async () => {
    await product(a, 2)
    await product(b, 2) // now in both L1s
    const sent = performance.now()
    const response = await a.app.request('/api/products/2', { method: 'POST', body: JSON.stringify({ price: 4_321 }), headers: { 'content-type': 'application/json' } })
    expect(response.status).toBe(200)
    await expect.poll(() => b.bus.some((e) => e.type === 'tags' && e.tags.some((t) => t.endsWith(':product:2'))), { interval: 1 }).toBe(true)
    const seenAfter = performance.now() - sent
    const served = await product(b, 2)
    expect(served).toMatchObject({ id: 2, price: 4_321, version: 2 })
    const delays = b.bus.filter((e) => e.type === 'tags' || e.type === 'keys').map((e) => (e as { delayMs: number }).delayMs)
    console.log(`[origin] update on server A seen by server B ${seenAfter.toFixed(1)} ms after the POST was sent; bus delays ${delays.join(', ')} ms`)
    expect(Math.max(...delays)).toBeLessThan(1_000)
  })

  it('a batch reads every product in one round trip per tier and loads only the missing ones', async () => {
    const response = await b.app.request('/api/products?ids=1,2,3,4')
    const body = (await response.json()) as { products: Product[]; loadedFromOrigin: string[] }
    expect(body.products.map((p) => p.id)).toEqual([1, 2, 3, 4])
    expect(body.loadedFromOrigin).toEqual(['product:3', 'product:4'])
  })

  it('answers 400 and 404 like the Worker', async () => {
    expect((await a.app.request('/api/products/x')).status).toBe(400)
    expect((await a.app.request('/api/products/999')).status).toBe(404)
    expect((await a.app.request('/api/products?ids=')).status).toBe(400)
  })
})
