// tiercache driving the HTTP caches outside it, in workerd: withCache and Hono tiercache() answers carry the
// headers of their scope (judged by http-cache-semantics as a CDN and as a browser), Cache-Tag from the policy,
// validators and 304s (what Workers Cache's soft invalidate revalidates with), and c.var.cache.invalidateTags
// reaching Workers Cache. Local workerd has no ctx.cache, so Workers Cache is a structural double on the real ctx.
import { createCache, memoryStore, type Cache } from '@tiercache/core'
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { Hono } from 'hono'
import CachePolicy from 'http-cache-semantics'
import { describe, expect, it } from 'vitest'
import { tiercache, type TiercacheVariables } from '../../src/hono'
import {
  cacheApiStore,
  cdnTag,
  invalidateEverywhere,
  withCache,
  type HeaderScope,
  type PurgeSelector,
  type WithCacheOptions,
  type WorkersCacheLike,
} from '../../src/index'
import { manualClock, unique } from '../support/services'

function judge(response: Response, shared: boolean, now: number): CachePolicy {
  class JudgeAt extends CachePolicy {
    override now(): number {
      return now
    }
  }
  const headers = Object.fromEntries(response.headers)
  return new JudgeAt({ url: '/x', method: 'GET', headers: {} }, { status: response.status, headers: { date: new Date(now).toUTCString(), ...headers } }, { shared })
}

function recordingWorkersCache(): WorkersCacheLike & { calls: { method: string; selector: PurgeSelector }[] } {
  const calls: { method: string; selector: PurgeSelector }[] = []
  return {
    calls,
    purge: async (selector) => (calls.push({ method: 'purge', selector }), { success: true, errors: [] }),
    invalidate: async (selector) => (calls.push({ method: 'invalidate', selector }), { success: true, errors: [] }),
  }
}

function worker(body: (path: string, n: number) => { text: string; headers?: Record<string, string> }, options: Partial<WithCacheOptions> = {}) {
  const clock = manualClock()
  const cache = createCache({ tiers: [cacheApiStore({ cacheName: unique('workers-cache'), now: clock.now }), memoryStore()], now: clock.now, namespace: 'shop' })
  const calls = new Map<string, number>()
  const handler = withCache(
    (request) => {
      const path = new URL(request.url).pathname
      const n = (calls.get(path) ?? 0) + 1
      calls.set(path, n)
      const { text, headers } = body(path, n)
      return new Response(text, { headers: { 'content-type': 'text/plain', ...headers } })
    },
    { cache, now: clock.now, policy: { ttl: '5m', swr: '1m', tags: ['products'] }, ...options },
  )
  async function send(path: string, init?: RequestInit): Promise<Response> {
    const ctx = createExecutionContext()
    const response = await handler(new Request(`https://shop.test${path}`, init), {}, ctx)
    await waitOnExecutionContext(ctx)
    return response
  }
  return { send, clock, cache, calls: (path: string) => calls.get(path) ?? 0 }
}

describe('withCache: the headers of every HTTP cache in the path, by scope', () => {
  const scopes: Record<string, HeaderScope> = { '/all': 'all', '/browser': 'browser', '/shared': 'shared', '/tiers': 'tiers' }
  const w = worker(() => ({ text: 'catalogue' }), { scope: (request) => scopes[new URL(request.url).pathname] ?? 'all' })

  it("'all' (default): browsers and CDNs keep it for what the entry has left; Cache-Tag names the policy's tags, not namespaced", async () => {
    await w.send('/all')
    w.clock.advance(20_000)
    const hit = await w.send('/all')
    expect(hit.headers.get('cache-status')).toBe('tiercache; hit; ttl=280; detail=L1')
    expect(hit.headers.get('cache-control')).toBe('public, max-age=300, stale-while-revalidate=60')
    expect(hit.headers.get('cdn-cache-control')).toBe('max-age=300, stale-while-revalidate=60')
    expect(hit.headers.get('cloudflare-cdn-cache-control')).toBe('max-age=300, stale-while-revalidate=60')
    expect(hit.headers.get('cache-tag')).toBe('products')
    expect(hit.headers.get('age')).toBe('20')
    const now = w.clock.now()
    for (const shared of [true, false]) {
      const j = judge(hit, shared, now)
      expect(j.maxAge() - j.age()).toBe(280)
    }
  })

  it("'browser': a CDN must not store it, the browser may; no tags leave the Worker", async () => {
    const res = await w.send('/browser')
    expect(res.headers.get('cache-control')).toBe('private, max-age=300, stale-while-revalidate=60')
    expect(res.headers.get('cdn-cache-control')).toBeNull()
    expect(res.headers.get('cache-tag')).toBeNull()
    expect(judge(res, true, w.clock.now()).storable()).toBe(false)
    expect(judge(res, false, w.clock.now()).storable()).toBe(true)
  })

  it("'shared': CDNs keep it, browsers revalidate each use", async () => {
    const res = await w.send('/shared')
    expect(res.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=300')
    expect(res.headers.get('cloudflare-cdn-cache-control')).toBe('max-age=300, stale-while-revalidate=60')
    expect(res.headers.get('cache-tag')).toBe('products')
    const cdn = judge(res, true, w.clock.now())
    expect(cdn.maxAge() - cdn.age()).toBe(300)
    expect(judge(res, false, w.clock.now()).stale()).toBe(true)
  })

  it("'tiers': no-store outside, still cached inside", async () => {
    await w.send('/tiers')
    const hit = await w.send('/tiers')
    expect(hit.headers.get('cache-status')).toMatch(/^tiercache; hit/)
    expect(hit.headers.get('cache-control')).toBe('no-store')
    expect(hit.headers.get('cdn-cache-control')).toBeNull()
    for (const shared of [true, false]) expect(judge(hit, shared, w.clock.now()).storable()).toBe(false)
    expect(w.calls('/tiers')).toBe(1)
  })

  it('writes unsafe tags so they cannot split or inject (hashed, as invalidateEverywhere purges them)', async () => {
    const t = worker(() => ({ text: 'x' }), { policy: { ttl: '1m', tags: ['product:1', 'a,b', 'evil\r\nset-cookie:x'] } })
    const res = await t.send('/p')
    expect(res.headers.get('cache-tag')).toBe(['product:1', cdnTag('a,b'), cdnTag('evil\r\nset-cookie:x')].join(','))
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it("rejects unsafe tags when built with tagOptions.unsafe 'throw', and a bad scope", () => {
    const cache = createCache({ tiers: [memoryStore()] })
    const origin = (): Response => new Response('x')
    expect(() => withCache(origin, { cache, policy: { ttl: '1m', tags: ['a b'] }, tagOptions: { unsafe: 'throw' } })).toThrow(RangeError)
    expect(() => withCache(origin, { cache, policy: { ttl: '1m' }, scope: 'cdn' as HeaderScope })).toThrow(/options.scope/)
    expect(() => withCache(origin, { cache, policy: { ttl: '1m' }, tagOptions: { maxTagLength: 3 } })).toThrow(/maxTagLength/)
    expect(() => withCache(origin, { cache, policy: { ttl: '1m' }, surrogateKey: 'yes' as unknown as boolean })).toThrow(TypeError)
  })

  it('Surrogate-Key on request, CDN fields off on request', async () => {
    const t = worker(() => ({ text: 'x' }), { surrogateKey: true, cdn: false, cloudflare: false })
    const res = await t.send('/p')
    expect(res.headers.get('surrogate-key')).toBe('products')
    expect(res.headers.get('cdn-cache-control')).toBeNull()
    expect(res.headers.get('cloudflare-cdn-cache-control')).toBeNull()
  })
})

describe('withCache: validators and 304 (browsers, and Workers Cache revalidating after invalidate())', () => {
  it("computes a strong ETag from the stored body when the origin has none, and keeps the origin's own", async () => {
    const own: Record<string, string> = { etag: 'W/"origin"', 'last-modified': 'Tue, 01 Dec 2026 00:00:00 GMT' }
    const w = worker((path) => ({ text: 'same body', headers: path === '/own' ? own : {} }))
    const computed = (await w.send('/computed')).headers.get('etag')
    expect(computed).toMatch(/^"[A-Za-z0-9_-]{24}"$/)
    expect((await w.send('/computed')).headers.get('etag')).toBe(computed)
    const kept = await w.send('/own')
    expect(kept.headers.get('etag')).toBe('W/"origin"')
    expect(kept.headers.get('last-modified')).toBe('Tue, 01 Dec 2026 00:00:00 GMT')
  })

  it('answers 304 to a matching If-None-Match (weak comparison, lists, *) from a hit, 200 otherwise', async () => {
    const w = worker(() => ({ text: 'v1' }))
    const etag = (await w.send('/p')).headers.get('etag') as string
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await w.send('/p', { headers: { 'if-none-match': inm } })
      expect(res.status).toBe(304)
      expect(await res.text()).toBe('')
      expect(res.headers.get('etag')).toBe(etag)
      expect(res.headers.get('cache-control')).toBe('public, max-age=300, stale-while-revalidate=60')
      expect(res.headers.get('cache-tag')).toBe('products')
    }
    const changed = await w.send('/p', { headers: { 'if-none-match': '"other"' } })
    expect(changed.status).toBe(200)
    expect(await changed.text()).toBe('v1')
    expect(w.calls('/p')).toBe(1)
  })

  it('If-None-Match takes precedence over If-Modified-Since (RFC 9110 §13.2.2); If-Modified-Since alone compares Last-Modified', async () => {
    const w = worker(() => ({ text: 'v1', headers: { 'last-modified': 'Tue, 01 Dec 2026 00:00:00 GMT' } }))
    await w.send('/p')
    expect((await w.send('/p', { headers: { 'if-modified-since': 'Wed, 02 Dec 2026 00:00:00 GMT' } })).status).toBe(304)
    expect((await w.send('/p', { headers: { 'if-modified-since': 'Mon, 30 Nov 2026 00:00:00 GMT' } })).status).toBe(200)
    expect((await w.send('/p', { headers: { 'if-none-match': '"nope"', 'if-modified-since': 'Wed, 02 Dec 2026 00:00:00 GMT' } })).status).toBe(200)
  })

  it('after an invalidation, a refill with the same body still answers the stored ETag with 304; a changed body with 200', async () => {
    let body = 'price 10'
    const w = worker(() => ({ text: body }))
    const first = (await w.send('/price')).headers.get('etag') as string
    const workersCache = recordingWorkersCache()
    await invalidateEverywhere(w.cache, ['products'], { workersCache })
    expect(workersCache.calls).toEqual([{ method: 'purge', selector: { tags: ['products'] } }])
    // Workers Cache revalidates what it kept with the stored ETag: unchanged data is a 304 even from a fresh load.
    const unchanged = await w.send('/price', { headers: { 'if-none-match': first } })
    expect(unchanged.status).toBe(304)
    expect(unchanged.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    expect(w.calls('/price')).toBe(2)
    body = 'price 12'
    await invalidateEverywhere(w.cache, ['products'], { workersCache, mode: 'soft' })
    expect(workersCache.calls[1]).toEqual({ method: 'invalidate', selector: { tags: ['products'] } })
    // Soft: within swr the stale entry answers once (still the old ETag, so a 304 whose Age says it is stale)
    // while one refresh loads; the revalidation after it gets the new body.
    const stale = await w.send('/price', { headers: { 'if-none-match': first } })
    expect(stale.status).toBe(304)
    expect(stale.headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=0/)
    expect(Number(stale.headers.get('age'))).toBeGreaterThanOrEqual(300)
    const changed = await w.send('/price', { headers: { 'if-none-match': first } })
    expect(changed.status).toBe(200)
    expect(await changed.text()).toBe('price 12')
    expect(changed.headers.get('etag')).not.toBe(first)
  })
})

describe('Hono: c.var.cache.invalidateTags reaches Workers Cache', () => {
  function app(cache: Cache) {
    const hono = new Hono<{ Variables: TiercacheVariables }>()
    let price = 10
    hono.use('/api/*', tiercache({ app: hono, cache, policy: { ttl: '5m', tags: ['prices'] } }))
    hono.get('/api/price', (c) => c.json({ price }))
    hono.post('/api/price', async (c) => {
      price = Number(await c.req.text())
      await c.var.cache.invalidateTags(['prices'])
      return c.body(null, 204)
    })
    return hono
  }

  it('purges the tags in the runtime Workers Cache, and the tiers load the new value', async () => {
    const cache = createCache({ tiers: [cacheApiStore({ cacheName: unique('hono-wc') }), memoryStore()] })
    const hono = app(cache)
    const workersCache = recordingWorkersCache()
    const send = async (init?: RequestInit): Promise<Response> => {
      const real = createExecutionContext()
      // The real ExecutionContext's waitUntil, plus the `cache` Cloudflare's runtime adds where Workers Cache is on.
      const ctx = { waitUntil: (p: Promise<unknown>) => real.waitUntil(p), passThroughOnException: () => {}, props: {}, cache: workersCache }
      const res = await hono.fetch(new Request('https://shop.test/api/price', init), {}, ctx as unknown as ExecutionContext)
      await waitOnExecutionContext(real)
      return res
    }
    const before = await send()
    expect(await before.json()).toEqual({ price: 10 })
    expect(before.headers.get('cache-tag')).toBe('prices')
    expect((await send({ method: 'POST', body: '12' })).status).toBe(204)
    expect(workersCache.calls).toEqual([{ method: 'purge', selector: { tags: ['prices'] } }])
    expect(await (await send()).json()).toEqual({ price: 12 })
  })
})
