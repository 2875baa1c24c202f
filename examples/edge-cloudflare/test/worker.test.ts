// The example Worker as three real isolates (three copies of it in one miniflare, each its own V8 isolate and module
// state) on the bindings of wrangler.jsonc: one KV namespace, one TiercacheCoordinator Durable Object namespace.
// Isolates a and b share miniflare's Cache API, like two isolates of one data centre; c runs without one (its
// Cache API stores nothing), like an isolate in a data centre that has not seen the key.
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'

const ISOLATES = ['a', 'b', 'c'] as const
let mf: Miniflare

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'import'],
    write: false,
  })
  const script = bundle.outputFiles[0]?.text ?? ''
  mf = new Miniflare({
    workers: ISOLATES.map((name, i) => ({
      name: `isolate-${name}`,
      modules: true,
      script,
      compatibilityDate: '2026-04-01',
      kvNamespaces: { TIERCACHE_KV: 'tiercache-example-kv' },
      // The first copy hosts the objects (new_sqlite_classes in wrangler.jsonc); the others bind to them.
      durableObjects: { TIERCACHE: i === 0 ? { className: 'TiercacheCoordinator', useSQLite: true } : { className: 'TiercacheCoordinator', scriptName: 'isolate-a' } },
      cache: name !== 'c',
    })),
  })
  await mf.ready
}, 60_000)

afterAll(async () => {
  await mf?.dispose()
})

async function send(isolate: string, path: string, init?: { method: string }): Promise<Response> {
  const worker = await mf.getWorker(`isolate-${isolate}`)
  return worker.fetch(`https://example.test${path}`, init)
}

/**
 * Waits until the entry of `url` is in KV (L2) and in the shared Cache API (L1). The request that missed writes both
 * in its waitUntil, which a worker's fetch from Node does not wait for: on a fast machine the next request came first.
 * The layouts are the stores' own: KV key `tc:k:<key>`, Cache API request `https://tiercache.internal/k/<escaped key>`.
 */
async function stored(url: string): Promise<void> {
  const kv = await mf.getKVNamespace('TIERCACHE_KV')
  const caches = await mf.getCaches()
  await vi.waitFor(
    async () => {
      const name = (await kv.list({ prefix: 'tc:k:' })).keys.map((k) => k.name).find((n) => n.endsWith(`GET ${url}`))
      expect(name).toBeDefined()
      const key = (name as string).slice('tc:k:'.length)
      expect(await caches.default.match(`https://tiercache.internal/k/${encodeURIComponent(key)}`)).toBeDefined()
    },
    { timeout: 10_000, interval: 20 },
  )
}

async function originRuns(): Promise<number> {
  let total = 0
  for (const name of ISOLATES) total += ((await (await send(name, '/admin/stats')).json()) as { originRuns: number }).originRuns
  return total
}

describe('the Cloudflare-only example across three isolates', () => {
  it('L1 and L2: a miss is stored; the data centre answers from its Cache API, another one from KV', async () => {
    const miss = await send('a', '/api/products/1')
    expect(miss.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    const body = await miss.json()
    await stored('https://example.test/api/products/1')
    expect((await send('a', '/api/products/1')).headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=\d+; detail=L1$/)
    expect((await send('b', '/api/products/1')).headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=\d+; detail=L1$/)
    const elsewhere = await send('c', '/api/products/1')
    expect(elsewhere.headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=\d+; detail=L2$/)
    expect(await elsewhere.json()).toEqual(body)
  })

  it('cross-isolate stampede protection: three isolates missing together run the origin once', async () => {
    const before = await originRuns()
    const answers = await Promise.all(ISOLATES.map((name) => send(name, '/api/products/2')))
    const bodies = await Promise.all(answers.map((r) => r.json()))
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1)
    expect((await originRuns()) - before).toBe(1)
    expect(answers.filter((r) => r.headers.get('cache-status') === 'tiercache; fwd=miss; stored')).toHaveLength(1)
  })

  it('global tags: an invalidation in one isolate reaches the others (at once where the tag was not read yet)', async () => {
    const first = await (await send('a', '/api/products/3')).json()
    expect((await send('a', '/admin/invalidate?tag=product:3', { method: 'POST' })).status).toBe(204)
    await new Promise((r) => setTimeout(r, 5))
    // b finds the entry in the data centre's Cache API, asks the Durable Object about product:3, and loads again.
    const reloaded = await send('b', '/api/products/3')
    expect(reloaded.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    const second = await reloaded.json()
    expect(second).not.toEqual(first)
    // c, in the other data centre, gets the new entry from KV.
    const elsewhere = await send('c', '/api/products/3')
    expect(elsewhere.headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=\d+; detail=L2$/)
    expect(await elsewhere.json()).toEqual(second)
  })
})
