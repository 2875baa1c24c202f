// Zone purge by tag from a real Worker (miniflare, production compatibility settings) against a server on
// 127.0.0.1 that records the requests as Cloudflare's API would receive them: batching, spacing, 429 + Retry-After,
// failures reported and never thrown into the request.
import { getFreePort } from '@tiercache/testkit'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { createServer, type Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

interface Recorded {
  path: string
  authorization: string | undefined
  tags: string[] | undefined
  files: string[] | undefined
}

let mf: Miniflare
let server: Server
const recorded: Recorded[] = []
/** What the API answers next, in order; then 200 success. */
let script: { status: number; retryAfter?: string; body?: unknown }[] = []

beforeAll(async () => {
  const port = await getFreePort()
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () => {
      recorded.push({ path: req.url ?? '', authorization: req.headers.authorization, ...(JSON.parse(body) as { tags?: string[]; files?: string[] }) } as Recorded)
      const next = script.shift() ?? { status: 200, body: { success: true, errors: [], messages: [], result: { id: 'p1' } } }
      res.writeHead(next.status, { 'content-type': 'application/json', ...(next.retryAfter === undefined ? {} : { 'retry-after': next.retryAfter }) })
      res.end(JSON.stringify(next.body ?? { success: false, errors: [{ code: 10000 + next.status, message: 'no' }] }))
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const bundled = await build({
    entryPoints: [fileURLToPath(new URL('./fixtures/zone-purge-worker.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'import'],
    write: false,
    logLevel: 'silent',
  })
  mf = new Miniflare({
    modules: true,
    script: bundled.outputFiles[0]?.text ?? '',
    compatibilityDate: '2026-04-01',
    bindings: { ENDPOINT: `http://127.0.0.1:${port}/client/v4` },
  })
  await mf.ready
})

afterAll(async () => {
  await mf?.dispose()
  await new Promise((resolve) => server?.close(resolve))
})

beforeEach(() => {
  recorded.length = 0
  script = []
})

async function invalidate(tags: string[], query = ''): Promise<{ report: { zone: { ok: boolean; requests: number; failed: string[] } }; events: { type: string; tags: string[]; retryAfterMs?: number }[]; sentAt: number[] }> {
  const res = await mf.dispatchFetch(`http://worker.test/invalidate?tags=${encodeURIComponent(tags.join('|'))}${query}`, { method: 'POST' })
  expect(res.status).toBe(200)
  return (await res.json()) as Awaited<ReturnType<typeof invalidate>>
}

describe('zonePurger through invalidateEverywhere', () => {
  it('POSTs the tags, as Cache-Tag writes them, to /zones/:id/purge_cache with the token', async () => {
    const { report, events } = await invalidate(['products', 'a,b'])
    expect(report.zone).toEqual({ ok: true, requests: 1, failed: [] })
    expect(recorded).toHaveLength(1)
    expect(recorded[0]?.path).toBe('/client/v4/zones/zone123/purge_cache')
    expect(recorded[0]?.authorization).toBe('Bearer secret-token')
    expect(recorded[0]?.tags?.[0]).toBe('products')
    expect(recorded[0]?.tags?.[1]).toMatch(/^tc-[0-9a-f]{16}$/)
    expect(events.map((e) => e.type)).toEqual(['purged'])
  })

  it('purges URLs as files, after the tags, batched the same way', async () => {
    const urls = ['https://shop.test/p/1', 'https://shop.test/p/2?x=1', 'https://shop.test/p/3']
    const res = await mf.dispatchFetch(`http://worker.test/invalidate?tags=products&per=2&urls=${encodeURIComponent(urls.join('|'))}`, { method: 'POST' })
    const { report } = (await res.json()) as Awaited<ReturnType<typeof invalidate>>
    expect(report.zone).toEqual({ ok: true, requests: 3, failed: [] })
    expect(recorded.map((r) => [r.tags, r.files])).toEqual([
      [['products'], undefined],
      [undefined, urls.slice(0, 2)],
      [undefined, urls.slice(2)],
    ])
  })

  it('batches within the per-request limit, spaced by minInterval', async () => {
    const tags = Array.from({ length: 5 }, (_, i) => `t${i}`)
    const { report, sentAt } = await invalidate(tags, '&per=2&interval=300')
    expect(report.zone).toEqual({ ok: true, requests: 3, failed: [] })
    expect(recorded.map((r) => r.tags)).toEqual([['t0', 't1'], ['t2', 't3'], ['t4']])
    // Sent at least 300 ms apart by the Worker's clock (arrivals at the server also carry each request's latency,
    // which on a loaded machine brought two within 141 ms of each other). 290: workerd's timer may fire a few
    // milliseconds before its clock, which only moves on I/O, says the interval is up (seen once in a full run).
    expect(sentAt).toHaveLength(3)
    for (let i = 1; i < sentAt.length; i++) expect((sentAt[i] ?? 0) - (sentAt[i - 1] ?? 0)).toBeGreaterThanOrEqual(290)
  })

  it('retries a 429 after its Retry-After, then succeeds', async () => {
    script = [{ status: 429, retryAfter: '1' }]
    const { report, events, sentAt } = await invalidate(['products'])
    expect(report.zone).toEqual({ ok: true, requests: 2, failed: [] })
    expect(events.map((e) => e.type)).toEqual(['rate-limited', 'purged'])
    expect(events[0]?.retryAfterMs).toBe(1000)
    expect((sentAt[1] ?? 0) - (sentAt[0] ?? 0)).toBeGreaterThanOrEqual(1000)
  })

  it('reports what failed (errors, 429 beyond the retries) and still answers the request', async () => {
    script = [{ status: 429, retryAfter: '0' }, { status: 429, retryAfter: '0' }, { status: 429, retryAfter: '0' }, { status: 400 }]
    const { report, events } = await invalidate(['a', 'b', 'c'], '&per=2')
    expect(report.zone).toEqual({ ok: false, requests: 4, failed: ['a', 'b', 'c'] })
    expect(events.map((e) => e.type)).toEqual(['rate-limited', 'rate-limited', 'failed', 'failed'])
  })
})
