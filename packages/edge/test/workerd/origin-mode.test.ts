// withCache with policy 'origin' in workerd: the origin's headers drive lifetimes as in an RFC 9111 shared cache,
// its caching headers pass through with a counted Age; unsafe methods invalidate the stored GET (RFC 9111 §4.4);
// statuses outside 200-599 pass through untouched.
import { createCache, memoryStore } from '@tiercache/core'
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { cacheApiStore, withCache, type WithCacheOptions } from '../../src/index'
import { manualClock, unique } from '../support/services'

type Route = (request: Request, n: number) => Response

function proxy(route: Route, options: Partial<WithCacheOptions> = {}) {
  const clock = manualClock(Date.UTC(2026, 11, 3, 7, 0, 0))
  const cache = createCache({ tiers: [cacheApiStore({ cacheName: unique('origin-mode'), now: clock.now }), memoryStore()], now: clock.now })
  const seen: Request[] = []
  const handler = withCache(
    (request) => {
      seen.push(request)
      return route(request, seen.filter((r) => r.url === request.url && r.method === 'GET').length)
    },
    { cache, now: clock.now, policy: 'origin', ...options },
  )
  async function send(path: string, init?: RequestInit): Promise<Response> {
    const ctx = createExecutionContext()
    const response = await handler(new Request(`https://origin.test${path}`, init), {}, ctx)
    await waitOnExecutionContext(ctx)
    return response
  }
  const gets = (path: string): number => seen.filter((r) => r.method === 'GET' && new URL(r.url).pathname === path).length
  return { send, clock, gets }
}

const respond = (headers: Record<string, string>, status = 200) => (_req: Request, n: number) =>
  // No Date: the age comes from Age alone (a Date would be compared with the manual clock).
  new Response(status === 204 ? null : `body ${n}`, { status, headers: { 'content-type': 'text/plain', ...headers } })

describe("withCache({ policy: 'origin' })", () => {
  it("keeps a response for its max-age, serving the origin's Cache-Control and Expires unchanged with a counted Age", async () => {
    const p = proxy(respond({ 'cache-control': 'max-age=60, foo', expires: 'Thu, 01 Jan 2099 00:00:00 GMT', age: '10' }))
    const miss = await p.send('/a')
    expect(miss.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    expect(miss.headers.get('cache-control')).toBe('max-age=60, foo')
    expect(miss.headers.get('age')).toBe('10')
    p.clock.advance(30_000)
    const hit = await p.send('/a')
    expect(await hit.text()).toBe('body 1')
    expect(hit.headers.get('cache-control')).toBe('max-age=60, foo')
    expect(hit.headers.get('expires')).toBe('Thu, 01 Jan 2099 00:00:00 GMT')
    expect(hit.headers.get('cdn-cache-control')).toBeNull()
    expect(hit.headers.get('age')).toBe('40')
    p.clock.advance(20_001)
    expect(await (await p.send('/a')).text()).toBe('body 2')
    expect(p.gets('/a')).toBe(2)
  })

  it('takes s-maxage over max-age, and CDN-Cache-Control over both (RFC 9213)', async () => {
    const p = proxy((req, n) => {
      const path = new URL(req.url).pathname
      const headers: Record<string, string> = path === '/s' ? { 'cache-control': 'max-age=1, s-maxage=100' } : { 'cache-control': 'max-age=100', 'cdn-cache-control': 'max-age=1' }
      return respond(headers)(req, n)
    })
    await p.send('/s')
    await p.send('/cdn')
    p.clock.advance(5_000)
    expect(await (await p.send('/s')).text()).toBe('body 1')
    expect(await (await p.send('/cdn')).text()).toBe('body 2')
  })

  it.each([
    [{ 'cache-control': 'no-store, max-age=60' }, 'no-store'],
    [{ 'cache-control': 'private, max-age=60' }, 'private'],
    [{ 'cache-control': 'max-age=60', 'cdn-cache-control': 'no-store' }, 'no-store'],
    [{ 'last-modified': 'Tue, 01 Dec 2026 00:00:00 GMT' }, 'no-lifetime'],
    [{ 'cache-control': 'max-age=60', age: '61' }, 'stale'],
    [{ 'cache-control': 'max-age=60', age: 'soon' }, 'age'],
  ])('does not store %j (detail=%s)', async (headers, detail) => {
    const p = proxy(respond(headers))
    const first = await p.send('/x')
    expect(first.headers.get('cache-status')).toBe(`tiercache; fwd=miss; detail=not-stored:${detail}`)
    await p.send('/x')
    expect(p.gets('/x')).toBe(2)
  })

  it('serves stale within stale-while-revalidate and refreshes in the background', async () => {
    const p = proxy(respond({ 'cache-control': 'max-age=10, stale-while-revalidate=60' }))
    await p.send('/swr')
    p.clock.advance(20_000)
    const stale = await p.send('/swr')
    expect(await stale.text()).toBe('body 1')
    expect(stale.headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=-10/)
    expect(await (await p.send('/swr')).text()).toBe('body 2')
  })
})

describe('unsafe methods invalidate the stored GET (RFC 9111 §4.4), in both modes', () => {
  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s on the URL, and on same-origin Location and Content-Location', async (method) => {
    const p = proxy((req, n) => {
      if (req.method !== 'GET') return new Response(null, { status: 204, headers: { location: '/other', 'content-location': 'https://elsewhere.test/third' } })
      return respond({ 'cache-control': 'max-age=3600' })(req, n)
    })
    for (const path of ['/item', '/other']) await p.send(path)
    await p.send('/item', { method })
    expect(await (await p.send('/item')).text()).toBe('body 2')
    expect(await (await p.send('/other')).text()).toBe('body 2')
  })

  it('a failed unsafe request (4xx, 5xx) invalidates nothing', async () => {
    const p = proxy((req, n) => (req.method === 'POST' ? new Response('no', { status: 500 }) : respond({ 'cache-control': 'max-age=3600' })(req, n)))
    await p.send('/item')
    await p.send('/item', { method: 'POST' })
    expect(await (await p.send('/item')).text()).toBe('body 1')
  })

  it('with a policy too', async () => {
    const p = proxy((req, n) => (req.method === 'POST' ? new Response(null, { status: 201 }) : new Response(`body ${n}`)), { policy: { ttl: '1h' } })
    await p.send('/item')
    await p.send('/item', { method: 'POST' })
    expect(await (await p.send('/item')).text()).toBe('body 2')
  })
})

describe("origin mode revalidates a stale response with its validators (RFC 9111 §4.3)", () => {
  it('sends If-None-Match; a 304 freshens the stored response (its fields updated, ETag kept) without the body', async () => {
    const conditional: (string | null)[] = []
    const p = proxy((req, n) => {
      conditional.push(req.headers.get('if-none-match'))
      if (n === 1) return respond({ 'cache-control': 'max-age=10', etag: '"v1"', 'x-version': 'a' })(req, n)
      return new Response(null, { status: 304, headers: { 'cache-control': 'max-age=100', etag: '"other"', 'x-version': 'b' } })
    })
    await p.send('/r')
    p.clock.advance(20_000)
    const revalidated = await p.send('/r', { headers: { 'if-none-match': '"client"' } })
    expect(revalidated.status).toBe(200)
    expect(await revalidated.text()).toBe('body 1')
    expect(revalidated.headers.get('cache-status')).toBe('tiercache; fwd=stale; stored')
    expect(revalidated.headers.get('x-version')).toBe('b')
    expect(revalidated.headers.get('cache-control')).toBe('max-age=100')
    expect(revalidated.headers.get('etag')).toBe('"v1"')
    // The client's own validator never reaches the origin; the stored one does.
    expect(conditional).toEqual([null, '"v1"'])
    p.clock.advance(50_000)
    const hit = await p.send('/r')
    expect(hit.headers.get('cache-status')).toMatch(/^tiercache; hit/)
    expect(await hit.text()).toBe('body 1')
    expect(p.gets('/r')).toBe(2)
  })

  it('stores a no-cache response with Last-Modified and revalidates it on every use (If-Modified-Since)', async () => {
    const lastModified = 'Tue, 01 Dec 2026 00:00:00 GMT'
    const since: (string | null)[] = []
    const p = proxy((req, n) => {
      since.push(req.headers.get('if-modified-since'))
      if (n === 2) return new Response(null, { status: 304, headers: { 'cache-control': 'no-cache', 'last-modified': lastModified } })
      return respond({ 'cache-control': 'no-cache', 'last-modified': lastModified })(req, n)
    })
    expect((await p.send('/nc')).headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    expect(await (await p.send('/nc')).text()).toBe('body 1')
    // A changed resource: the origin answers 200 and the new body replaces the stored one.
    expect(await (await p.send('/nc')).text()).toBe('body 3')
    expect(since).toEqual([null, lastModified, lastModified])
  })

  it("answers a failure with the kept response only within the origin's stale-if-error", async () => {
    let fail = false
    const p = proxy((req, n) => {
      if (fail) return new Response('down', { status: 503 })
      const path = new URL(req.url).pathname
      return respond({ 'cache-control': path === '/sie' ? 'max-age=10, stale-if-error=60' : 'max-age=10', etag: '"v1"' })(req, n)
    })
    await p.send('/sie')
    await p.send('/kept')
    p.clock.advance(30_000)
    fail = true
    const stale = await p.send('/sie')
    expect(await stale.text()).toBe('body 1')
    expect(stale.headers.get('cache-status')).toMatch(/stale-if-error/)
    const failed = await p.send('/kept')
    expect(failed.status).toBe(503)
    expect(await failed.text()).toBe('down')
    // Still kept: once the origin is back, it revalidates.
    fail = false
    expect((await p.send('/kept')).status).toBe(200)
  })

  it('stores a 5xx that has an explicit lifetime (RFC 9111 §3: any status with explicit freshness)', async () => {
    const p = proxy(respond({ 'cache-control': 'max-age=60' }, 503))
    expect((await p.send('/down')).status).toBe(503)
    const again = await p.send('/down')
    expect(again.status).toBe(503)
    expect(again.headers.get('cache-status')).toMatch(/^tiercache; hit/)
    expect(p.gets('/down')).toBe(1)
  })
})

describe('origin mode: must-understand, and If-Modified-Since without Last-Modified', () => {
  it('stores an understood status despite no-store with must-understand (RFC 9111 §5.2.2.3), never an unknown one', async () => {
    const p = proxy((req, n) => {
      const path = new URL(req.url).pathname
      return respond({ 'cache-control': 'max-age=60, must-understand, no-store' }, path === '/599' ? 599 : 200)(req, n)
    })
    for (const path of ['/200', '/599']) {
      await p.send(path)
      await p.send(path)
    }
    expect([p.gets('/200'), p.gets('/599')]).toEqual([1, 2])
  })

  it("answers If-Modified-Since with 304 from the stored response's Date when it has no Last-Modified (RFC 9111 §4.3.2)", async () => {
    const date = new Date(Date.UTC(2026, 11, 3, 7, 0, 0)).toUTCString()
    const p = proxy(respond({ 'cache-control': 'max-age=60', date }))
    await p.send('/d')
    const later = await p.send('/d', { headers: { 'if-modified-since': new Date(Date.UTC(2026, 11, 3, 7, 0, 5)).toUTCString() } })
    expect(later.status).toBe(304)
    const earlier = await p.send('/d', { headers: { 'if-modified-since': new Date(Date.UTC(2026, 11, 3, 6, 0, 0)).toUTCString() } })
    expect(earlier.status).toBe(200)
    expect(p.gets('/d')).toBe(1)
  })
})

describe('origin mode: learned Vary with revalidation', () => {
  it('revalidates a stale variant under its own key (the URL key keeps naming the fields)', async () => {
    const seen: (string | null)[] = []
    const p = proxy((req, n) => {
      seen.push(req.headers.get('if-none-match'))
      if (n > 1) return new Response(null, { status: 304, headers: { 'cache-control': 'max-age=10', etag: '"e1"', vary: 'x-abc' } })
      return respond({ 'cache-control': 'max-age=10', etag: '"e1"', vary: 'x-abc' })(req, n)
    })
    await p.send('/v', { headers: { 'x-abc': '1' } })
    p.clock.advance(20_000)
    const revalidated = await p.send('/v', { headers: { 'x-abc': '1' } })
    expect(await revalidated.text()).toBe('body 1')
    expect(revalidated.headers.get('cache-status')).toBe('tiercache; fwd=stale; stored')
    expect(seen).toEqual([null, '"e1"'])
  })
})

describe('origin mode: Surrogate-Control (Edge Architecture Specification 1.0)', () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ['max-age alone', { 'surrogate-control': 'max-age=3600' }, true],
    ['targeted at this cache (statusName), over Cache-Control: no-store', { 'cache-control': 'no-store', 'surrogate-control': 'max-age=3600;tiercache' }, true],
    ['targeted at another surrogate: ignored', { 'surrogate-control': 'max-age=3600;other' }, false],
    ['no-store over a fresh Cache-Control and Expires', { 'cache-control': 'max-age=3600', 'surrogate-control': 'no-store', expires: 'Thu, 01 Jan 2099 00:00:00 GMT' }, false],
    ['a short max-age over a long Cache-Control max-age', { 'cache-control': 'max-age=3600', 'surrogate-control': 'max-age=1' }, false],
    ['a long max-age over a short Cache-Control max-age', { 'cache-control': 'max-age=1', 'surrogate-control': 'MaX-aGe=3600, foobar' }, true],
    ['max-age=0 over a future Expires', { 'surrogate-control': 'max-age=0', expires: 'Thu, 01 Jan 2099 00:00:00 GMT' }, false],
  ]
  it.each(cases)('%s', async (_name, headers, cached) => {
    const p = proxy(respond(headers))
    await p.send('/sc')
    p.clock.advance(5_000)
    expect(await (await p.send('/sc')).text()).toBe(cached ? 'body 1' : 'body 2')
  })

  it('tells the origin its name in Surrogate-Capability, after a downstream surrogate\'s; surrogateControl: false reads none', async () => {
    const seen: (string | null)[] = []
    const p = proxy((req, n) => (seen.push(req.headers.get('surrogate-capability')), respond({ 'cache-control': 'no-store', 'surrogate-control': 'max-age=60' })(req, n)))
    await p.send('/cap', { headers: { 'surrogate-capability': 'cdn="Surrogate/1.0"' } })
    expect(seen).toEqual(['cdn="Surrogate/1.0", tiercache="Surrogate/1.0"'])
    const off = proxy(respond({ 'cache-control': 'no-store', 'surrogate-control': 'max-age=60' }), { surrogateControl: false })
    expect((await off.send('/x')).headers.get('cache-status')).toBe('tiercache; fwd=miss; detail=not-stored:no-store')
  })
})

describe('origin mode: credentials as an RFC 9111 shared cache', () => {
  it.each([
    ['public', { 'cache-control': 'max-age=3600, public' }, true],
    ['s-maxage', { 'cache-control': 's-maxage=3600' }, true],
    ['must-revalidate', { 'cache-control': 'max-age=3600, must-revalidate' }, true],
    ['only max-age', { 'cache-control': 'max-age=3600' }, false],
  ] as const)('an answer to a request with Authorization is stored only when it says so (§3.5): %s', async (_name, headers, stored) => {
    const p = proxy(respond(headers))
    const first = await p.send('/auth', { headers: { authorization: 'Bearer t' } })
    expect(first.headers.get('cache-status')).toBe(stored ? 'tiercache; fwd=miss; stored' : 'tiercache; fwd=miss; detail=not-stored:authorization')
    expect(await (await p.send('/auth')).text()).toBe(stored ? 'body 1' : 'body 2')
  })

  it('a request with Cookie is cached by the response\'s own headers; allowCookie: false still bypasses', async () => {
    const p = proxy(respond({ 'cache-control': 'max-age=3600' }))
    expect((await p.send('/c', { headers: { cookie: 'a=b' } })).headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    expect(await (await p.send('/c')).text()).toBe('body 1')
    const strict = proxy(respond({ 'cache-control': 'max-age=3600' }), { allowCookie: false, allowAuthorization: false })
    expect((await strict.send('/c', { headers: { cookie: 'a=b' } })).headers.get('cache-status')).toBe('tiercache; fwd=bypass; detail=cookie')
    expect((await strict.send('/c', { headers: { authorization: 'x' } })).headers.get('cache-status')).toBe('tiercache; fwd=bypass; detail=authorization')
  })
})

describe('origin mode: Date in whole seconds', () => {
  it('a response dated the current second is not counted up to a second old (max-age=2 stays fresh 1.9 s later)', async () => {
    const p = proxy((_req, n) => new Response(`body ${n}`, { headers: { 'cache-control': 'max-age=2', date: new Date(Math.floor(p.clock.now() / 1000) * 1000).toUTCString() } }))
    p.clock.advance(900) // 900 ms into the second the Date names
    await p.send('/d')
    p.clock.advance(1_900)
    expect(await (await p.send('/d')).text()).toBe('body 1')
    p.clock.advance(200)
    expect(await (await p.send('/d')).text()).toBe('body 2')
  })
})
