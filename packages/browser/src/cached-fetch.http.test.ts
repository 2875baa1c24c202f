// createCachedFetch against the RFC 9111 details the HTTP cache test suite exercises (tools/conformance): each
// test here failed before the rule it names was implemented.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createCache, memoryStore } from '@tiercache/core'
import { describe, expect, it, vi } from 'vitest'
import { createCachedFetch, type CachedFetchOptions } from './cached-fetch.js'

const START = Date.UTC(2026, 0, 15)
const URL_A = 'https://api.test/a'
const httpDate = (ms: number): string => new Date(ms).toUTCString()

type Handler = (request: Request, n: number) => Response | Promise<Response>

/** A fake origin behind a fake fetch, a manual clock, every request recorded. */
function setup(options: Omit<CachedFetchOptions, 'fetch' | 'now' | 'cache'> = {}) {
  let t = START
  const clock = { now: () => t, advance: (ms: number) => void (t += ms) }
  const seen: Request[] = []
  let handler: Handler = () => new Response('default')
  const upstream = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    seen.push(request)
    return handler(request, seen.length)
  })
  const cache = createCache({ tiers: [memoryStore()], now: clock.now })
  const cachedFetch = createCachedFetch({ ...options, cache, fetch: upstream as typeof fetch, now: clock.now })
  return {
    cachedFetch,
    clock,
    seen,
    respond(next: Handler) {
      handler = next
    },
    hits: () => seen.length,
  }
}

const status = (res: Response): string | null => res.headers.get('cache-status')

describe('createCachedFetch: parsing (RFC 9110 §5.6.7, RFC 9111 §5.1)', () => {
  it('reads Expires by the HTTP-date grammar: an ISO date is invalid, so already expired', async () => {
    const f = setup()
    f.respond(() => new Response('x', { headers: { date: httpDate(START), expires: new Date(START + 3_600_000).toISOString() } }))
    await f.cachedFetch(URL_A)
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
  })

  it('reads an RFC 850 Expires with a two-digit year as no more than 50 years ahead (70 is 2070 in 2026, not 1970)', async () => {
    const f = setup()
    f.respond(() => new Response('x', { headers: { date: httpDate(START), expires: 'Tuesday, 01-Jan-70 00:00:00 GMT' } }))
    await f.cachedFetch(URL_A)
    f.clock.advance(86_400_000)
    const second = await f.cachedFetch(URL_A)
    expect(status(second)).toMatch(/^tiercache; hit/)
    expect(f.hits()).toBe(1)
  })

  it('reads the first member of a list-valued Age: `7200, 0` is 7200 s old, past max-age=3600', async () => {
    const f = setup()
    f.respond(() => new Response('x', { headers: { 'cache-control': 'max-age=3600', age: '7200, 0' } }))
    await f.cachedFetch(URL_A)
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
  })

  it('treats an invalid Age as unknown: stale at once', async () => {
    const f = setup()
    f.respond(() => new Response('x', { headers: { 'cache-control': 'max-age=3600', age: '-7200' } }))
    await f.cachedFetch(URL_A)
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
  })
})

describe('createCachedFetch: stored fields (RFC 9111 §3.1, §3.2)', () => {
  it('keeps Content-Encoding when fetch did not decode the body (an unknown coding), drops it when it did', async () => {
    const f = setup()
    f.respond((req) => new Response('body', { headers: { 'cache-control': 'max-age=60', 'content-encoding': req.url.endsWith('/a') ? 'x-custom' : 'gzip' } }))
    await f.cachedFetch(URL_A)
    expect((await f.cachedFetch(URL_A)).headers.get('content-encoding')).toBe('x-custom')
    await f.cachedFetch('https://api.test/b')
    const decoded = await f.cachedFetch('https://api.test/b')
    expect(status(decoded)).toMatch(/^tiercache; hit/)
    expect(decoded.headers.get('content-encoding')).toBeNull()
  })

  it('does not store the fields Connection names (hop-by-hop, RFC 9110 §7.6.1)', async () => {
    const f = setup()
    f.respond(() => new Response('x', { headers: { 'cache-control': 'max-age=60', connection: 'x-hop', 'x-hop': '1', 'x-end': '2' } }))
    await f.cachedFetch(URL_A)
    const cached = await f.cachedFetch(URL_A)
    expect(status(cached)).toMatch(/^tiercache; hit/)
    expect(cached.headers.get('x-hop')).toBeNull()
    expect(cached.headers.get('x-end')).toBe('2')
  })

  it('does not store the proxy authentication fields (RFC 9111 §3.1; the browser list lacked them, core has them)', async () => {
    const f = setup()
    f.respond(() => new Response('x', { headers: { 'cache-control': 'max-age=60', 'proxy-authenticate': 'Basic realm="p"', 'proxy-authorization': 'Basic eA==', 'x-end': '2' } }))
    await f.cachedFetch(URL_A)
    const cached = await f.cachedFetch(URL_A)
    expect(status(cached)).toMatch(/^tiercache; hit/)
    expect([cached.headers.get('proxy-authenticate'), cached.headers.get('proxy-authorization'), cached.headers.get('x-end')]).toEqual([null, null, '2'])
  })

  it('a 304 does not replace the stored ETag, Content-Encoding or Content-MD5; it does replace other fields', async () => {
    const f = setup()
    f.respond((req) =>
      req.headers.has('if-none-match')
        ? new Response(null, { status: 304, headers: { etag: '"b"', 'content-md5': 'new', 'x-a': 'new', 'cache-control': 'max-age=60' } })
        : new Response('x', { headers: { etag: '"a"', 'content-md5': 'old', 'x-a': 'old', 'cache-control': 'max-age=1' } }),
    )
    await f.cachedFetch(URL_A)
    f.clock.advance(2_000)
    const revalidated = await f.cachedFetch(URL_A)
    expect(f.seen[1]?.headers.get('if-none-match')).toBe('"a"')
    expect([revalidated.headers.get('etag'), revalidated.headers.get('content-md5'), revalidated.headers.get('x-a')]).toEqual(['"a"', 'old', 'new'])
  })
})

describe('createCachedFetch: what the request asks (RFC 9111 §5.2.1, Fetch cache modes)', () => {
  const validating = (f: ReturnType<typeof setup>) =>
    f.respond((req, n) =>
      req.headers.get('if-none-match') === '"1"'
        ? new Response(null, { status: 304, headers: { etag: '"1"', 'cache-control': 'max-age=60' } })
        : new Response(`v${n}`, { headers: { 'cache-control': 'max-age=60', etag: '"1"' } }),
    )

  it("cache: 'no-cache' on a response kept only for revalidation (stale past every window) sends its validators", async () => {
    const f = setup({ retain: '1h' })
    validating(f)
    await f.cachedFetch(URL_A)
    f.clock.advance(30 * 60_000)
    const res = await f.cachedFetch(URL_A, { cache: 'no-cache' })
    expect(f.seen[1]?.headers.get('if-none-match')).toBe('"1"')
    expect(f.seen[1]?.headers.get('cache-control')).toBe('max-age=0')
    expect(status(res)).toMatch(/fwd=request; fwd-status=304/)
    expect(await res.text()).toBe('v1')
  })

  it('max-stale accepts a stale response, within its bound, unless must-revalidate', async () => {
    const f = setup()
    validating(f)
    await f.cachedFetch(URL_A)
    f.clock.advance(90_000) // 30 s stale
    const ok = await f.cachedFetch(URL_A, { headers: { 'cache-control': 'max-stale=60' } })
    expect(status(ok)).toBe('tiercache; hit; ttl=-30; detail=memory')
    const any = await f.cachedFetch(URL_A, { headers: { 'cache-control': 'max-stale' } })
    expect(status(any)).toMatch(/^tiercache; hit/)
    await f.cachedFetch(URL_A, { headers: { 'cache-control': 'max-stale=10' } })
    expect(f.hits()).toBe(2)
  })

  it('min-fresh and max-age bound what a fresh response may answer', async () => {
    const f = setup()
    validating(f)
    await f.cachedFetch(URL_A)
    f.clock.advance(40_000) // 20 s of freshness left, 40 s old
    expect(status(await f.cachedFetch(URL_A, { headers: { 'cache-control': 'min-fresh=10' } }))).toMatch(/^tiercache; hit/)
    expect(status(await f.cachedFetch(URL_A, { headers: { 'cache-control': 'max-age=50' } }))).toMatch(/^tiercache; hit/)
    expect(f.hits()).toBe(1)
    expect(status(await f.cachedFetch(URL_A, { headers: { 'cache-control': 'min-fresh=30' } }))).toMatch(/fwd=request; fwd-status=304/)
    f.clock.advance(10_000)
    expect(status(await f.cachedFetch(URL_A, { headers: { 'cache-control': 'max-age=5' } }))).toMatch(/fwd=request; fwd-status=304/)
    expect(f.hits()).toBe(3)
  })

  it('only-if-cached: the stored response, or 504 without asking the network', async () => {
    const f = setup()
    validating(f)
    const none = await f.cachedFetch(URL_A, { headers: { 'cache-control': 'only-if-cached' } })
    expect(none.status).toBe(504)
    expect(f.hits()).toBe(0)
    await f.cachedFetch(URL_A)
    f.clock.advance(120_000)
    const stale = await f.cachedFetch(URL_A, { headers: { 'cache-control': 'only-if-cached' } })
    expect([stale.status, await stale.text()]).toEqual([200, 'v1'])
    expect(f.hits()).toBe(1)
  })
})

describe('createCachedFetch: what is stored (RFC 9111 §3, §4.2.2)', () => {
  it('heuristic freshness: 10% of the Last-Modified age, for heuristically cacheable statuses only', async () => {
    const f = setup()
    const lastModified = httpDate(START - 10 * 86_400_000)
    f.respond((req) => new Response('x', { status: req.url.endsWith('/a') ? 200 : 201, headers: { date: httpDate(START), 'last-modified': lastModified } }))
    await f.cachedFetch(URL_A)
    f.clock.advance(86_400_000 - 1_000)
    expect(status(await f.cachedFetch(URL_A))).toMatch(/^tiercache; hit/)
    f.clock.advance(2_000)
    expect(status(await f.cachedFetch(URL_A))).toMatch(/fwd=stale/)
    await f.cachedFetch('https://api.test/b')
    await f.cachedFetch('https://api.test/b')
    expect(f.seen.filter((r) => r.url.endsWith('/b'))).toHaveLength(2)
  })

  it('stores a 5xx that states its own freshness, and never one with must-understand and an unknown status', async () => {
    const f = setup()
    f.respond((req) =>
      req.url.endsWith('/a')
        ? new Response('down', { status: 503, headers: { 'cache-control': 'max-age=60' } })
        : new Response('odd', { status: 599, headers: { 'cache-control': 'max-age=60, must-understand' } }),
    )
    await f.cachedFetch(URL_A)
    const cached = await f.cachedFetch(URL_A)
    expect([cached.status, status(cached)?.startsWith('tiercache; hit')]).toEqual([503, true])
    await f.cachedFetch('https://api.test/b')
    await f.cachedFetch('https://api.test/b')
    expect(f.hits()).toBe(3)
  })

  it('answers one byte range from a stored complete response with a 206 (RFC 9110 §14)', async () => {
    const f = setup()
    f.respond(() => new Response('0123456789', { headers: { 'cache-control': 'max-age=60' } }))
    await f.cachedFetch(URL_A)
    for (const [range, body, contentRange] of [
      ['bytes=0-1', '01', 'bytes 0-1/10'],
      ['bytes=8-', '89', 'bytes 8-9/10'],
      ['bytes=-3', '789', 'bytes 7-9/10'],
    ] as const) {
      const part = await f.cachedFetch(URL_A, { headers: { range } })
      expect([part.status, await part.text(), part.headers.get('content-range')]).toEqual([206, body, contentRange])
    }
    expect(f.hits()).toBe(1)
    // Several ranges, or one past the end: the network answers, and nothing is stored from it.
    f.respond(() => new Response('', { status: 416 }))
    expect((await f.cachedFetch(URL_A, { headers: { range: 'bytes=20-' } })).status).toBe(416)
    expect(f.hits()).toBe(2)
  })
})

describe('createCachedFetch: the request it sends (real fetch, loopback origin)', () => {
  it('bypasses the runtime cache without asking every cache on the way for no-cache', async () => {
    const received: IncomingHttpHeaders[] = []
    const server = createServer((req, res) => {
      received.push(req.headers)
      res.setHeader('cache-control', 'max-age=0')
      res.setHeader('etag', '"1"')
      res.end('x')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const cachedFetch = createCachedFetch({ cache: createCache({ tiers: [memoryStore()] }) })
      const url = `http://127.0.0.1:${port}/x`
      await (await cachedFetch(url)).text()
      await (await cachedFetch(url)).text() // a revalidation
      await (await cachedFetch(url, { cache: 'no-cache' })).text()
      await (await cachedFetch(url, { cache: 'reload' })).text()
      const fields = received.map((h) => [h['cache-control'], h.pragma, h['if-none-match']])
      expect(fields).toEqual([
        ['', '', undefined],
        ['', '', '"1"'],
        ['max-age=0', '', '"1"'],
        ['no-cache', 'no-cache', undefined],
      ])
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
