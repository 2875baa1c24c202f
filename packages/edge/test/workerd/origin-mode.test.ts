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
    expect(first.headers.get('cache-status')).toBe(`tiercache; fwd=miss; detail=${detail}`)
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
