// @tiercache/edge/hono in workerd: the tiercache() middleware on real routes, c.var.cache and cached().
import { createCache, memoryStore, type Cache } from '@tiercache/core'
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { cached, tiercache, type TiercacheOptions, type TiercacheVariables } from '../../src/hono'
import { cacheApiStore, withCache } from '../../src/index'
import { manualClock, unique } from '../support/services'

type App = Hono<{ Variables: TiercacheVariables }>

function build(options: Partial<TiercacheOptions> & { withApp?: boolean } = {}): {
  app: App
  send(path: string, init?: RequestInit): Promise<Response>
  count: Record<string, number>
  clock: ReturnType<typeof manualClock>
  cache: Cache
} {
  const clock = manualClock()
  const cache = createCache({ tiers: [cacheApiStore({ cacheName: unique('hono'), now: clock.now }), memoryStore()], now: clock.now })
  const app: App = new Hono<{ Variables: TiercacheVariables }>()
  const count: Record<string, number> = {}
  const bump = (name: string): number => (count[name] = (count[name] ?? 0) + 1)
  const { withApp = true, ...rest } = options
  app.use('/api/*', tiercache({ cache, policy: { ttl: '1m' }, now: clock.now, ...(withApp ? { app } : {}), ...rest }))
  app.use('/data/*', tiercache({ cache }))
  app.get('/api/item/:id', (c) => c.json({ id: c.req.param('id'), n: bump('item') }))
  app.get('/api/flaky', (c) => (count.flakyFails ? c.text('down', 503) : c.text(`flaky ${bump('flaky')}`)))
  app.get('/api/login', (c) => {
    bump('login')
    c.header('set-cookie', 'session=1')
    return c.text('welcome')
  })
  app.get('/api/uses-cache', async (c) => c.text(`has cache: ${typeof c.var.cache.getOrSet}`))
  // Answers a HEAD without a body, as a proxy (fetch(c.req.raw)) or a static file handler does.
  app.get('/api/proxied', (c) => {
    bump('proxied')
    return c.req.method === 'HEAD' ? c.body(null, 200, { 'content-type': 'text/plain' }) : c.text('the whole document')
  })
  app.get('/api/links', (c) => c.text(`https://${c.req.header('x-forwarded-host') ?? 'hono.test'}/next`))
  app.get('/api/whoami', async (c) => {
    await new Promise((r) => setTimeout(r, 50))
    return c.text(`error for ${c.req.header('x-user')}`, 503)
  })
  app.get('/data/price/:sku', async (c) => {
    const sku = c.req.param('sku')
    const price = await cached(c, `price:${sku}`, () => ({ sku, cents: 100 * bump('price') }), { ttl: '1m', swr: '1h' })
    return c.json(price)
  })
  async function send(path: string, init?: RequestInit): Promise<Response> {
    const ctx = createExecutionContext()
    const res = await app.fetch(new Request(`https://hono.test${path}`, init), {}, ctx)
    await waitOnExecutionContext(ctx)
    return res
  }
  return { app, send, count, clock, cache }
}

describe('tiercache() middleware', () => {
  it('caches a route\'s whole response: miss stored, then a hit from L1 without running the handler', async () => {
    const h = build()
    const miss = await h.send('/api/item/7')
    expect(await miss.json()).toEqual({ id: '7', n: 1 })
    expect(miss.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    expect(miss.headers.get('cache-control')).toBe('public, max-age=60')
    h.clock.advance(10_000)
    const hit = await h.send('/api/item/7')
    expect(await hit.json()).toEqual({ id: '7', n: 1 })
    expect(hit.headers.get('cache-status')).toBe('tiercache; hit; ttl=50; detail=L1')
    expect(hit.headers.get('age')).toBe('10')
    expect(hit.headers.get('content-type')).toMatch(/application\/json/)
    expect(h.count.item).toBe(1)
  })

  it('exposes the cache to handlers as c.var.cache', async () => {
    const h = build()
    expect(await (await h.send('/api/uses-cache')).text()).toBe('has cache: function')
  })

  it('serves stale within swr and refreshes by running the route again through the app, in waitUntil', async () => {
    const h = build({ policy: { ttl: '1m', swr: '10m' } })
    await h.send('/api/item/1')
    h.clock.advance(61_000)
    const stale = await h.send('/api/item/1')
    expect(await stale.json()).toEqual({ id: '1', n: 1 })
    expect(stale.headers.get('cache-status')).toBe('tiercache; hit; ttl=-1; detail=L1')
    expect(h.count.item).toBe(2)
    const fresh = await h.send('/api/item/1')
    expect(await fresh.json()).toEqual({ id: '1', n: 2 })
    expect(fresh.headers.get('cache-status')).toBe('tiercache; hit; ttl=60; detail=L1')
  })

  it('without options.app, revalidates in the foreground within what would be swr, keeping it as stale-if-error', async () => {
    const h = build({ policy: { ttl: '1m', swr: '10m' }, withApp: false })
    const first = await h.send('/api/flaky')
    expect(first.headers.get('cache-control')).toBe('public, max-age=60, stale-if-error=600')
    h.clock.advance(61_000)
    const revalidated = await h.send('/api/flaky')
    expect(await revalidated.text()).toBe('flaky 2')
    expect(revalidated.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    h.clock.advance(61_000)
    h.count.flakyFails = 1
    const fallback = await h.send('/api/flaky')
    expect(fallback.status).toBe(200)
    expect(await fallback.text()).toBe('flaky 2')
    expect(fallback.headers.get('cache-status')).toBe('tiercache; hit; ttl=-1; detail=L1/stale-if-error')
  })

  it('answers HEAD from the GET entry', async () => {
    const h = build()
    await h.send('/api/item/3')
    const head = await h.send('/api/item/3', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    expect(head.headers.get('cache-status')).toBe('tiercache; hit; ttl=60; detail=L1')
    expect(h.count.item).toBe(1)
  })

  it.each([true, false])('never fills the entry with a HEAD answer: a HEAD first on a miss, then GETs get the body (app given: %s)', async (withApp) => {
    const h = build({ withApp })
    const head = await h.send('/api/proxied', { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
    const get = await h.send('/api/proxied')
    expect(await get.text()).toBe('the whole document')
    expect(get.headers.get('cache-status')).toBe('tiercache; hit; ttl=60; detail=L1')
    expect(h.count.proxied).toBe(1)
  })

  it('strips headers the key ignores before the route sees them (web cache poisoning)', async () => {
    const h = build()
    expect(await (await h.send('/api/links', { headers: { 'x-forwarded-host': 'evil.example' } })).text()).toBe('https://hono.test/next')
    const victim = await h.send('/api/links')
    expect(await victim.text()).toBe('https://hono.test/next')
    expect(victim.headers.get('cache-status')).toMatch(/^tiercache; hit/)
  })

  it("gives every collapsed request its own answer when the route fails, never another request's", async () => {
    const h = build()
    const responses = await Promise.all(Array.from({ length: 8 }, (_, i) => h.send('/api/whoami', { headers: { 'x-user': `user${i}` } })))
    expect(await Promise.all(responses.map((r) => r.text()))).toEqual(Array.from({ length: 8 }, (_, i) => `error for user${i}`))
  })

  it('applies the same rules as withCache: a Set-Cookie response and an Authorization request are not cached', async () => {
    const h = build()
    for (let i = 0; i < 2; i++) {
      const res = await h.send('/api/login')
      expect(res.headers.get('set-cookie')).toBe('session=1')
      expect(res.headers.get('cache-status')).toBe('tiercache; fwd=miss; detail=not-stored:set-cookie')
    }
    expect(h.count.login).toBe(2)
    const authed = await h.send('/api/item/9', { headers: { authorization: 'Bearer t' } })
    expect(authed.headers.get('cache-status')).toBe('tiercache; fwd=bypass; detail=authorization')
    await h.send('/api/item/9', { headers: { authorization: 'Bearer t' } })
    expect(h.count.item).toBe(2)
  })

  it('answers 5xx uncached and routes without a policy untouched', async () => {
    const h = build()
    h.count.flakyFails = 1
    const down = await h.send('/api/flaky')
    expect(down.status).toBe(503)
    expect(down.headers.get('cache-status')).toBe('tiercache; fwd=miss; detail=not-stored:error')
    // tiercache() without a policy only provides c.var.cache.
    const data = await h.send('/data/price/z')
    expect(data.status).toBe(200)
    expect(data.headers.get('cache-status')).toBeNull()
  })

  it('rejects bad options at the factory', () => {
    expect(() => tiercache({ cache: 1 as never })).toThrow(/options\.cache/)
    expect(() => tiercache({ cache: createCache({ tiers: [memoryStore()] }), app: {} as never })).toThrow(/options\.app/)
  })
})

describe('withCache around a whole Hono app', () => {
  it('caches the app\'s responses like any fetch handler', async () => {
    const app = new Hono()
    let n = 0
    app.get('/page', (c) => c.text(`page ${++n}`))
    const worker = withCache(app, { cache: createCache({ tiers: [cacheApiStore({ cacheName: unique('whole-app') }), memoryStore()] }), policy: { ttl: '1m' } })
    for (const expected of ['tiercache; fwd=miss; stored', 'tiercache; hit; ttl=60; detail=L1']) {
      const ctx = createExecutionContext()
      const res = await worker.fetch(new Request('https://hono.test/page'), {}, ctx)
      await waitOnExecutionContext(ctx)
      expect(await res.text()).toBe('page 1')
      expect(res.headers.get('cache-status')).toMatch(new RegExp(`^${expected.replace('ttl=60', 'ttl=(59|60)')}$`))
    }
  })
})

describe('cached(c, key, loader, policy)', () => {
  it('caches data inside a handler across requests', async () => {
    const h = build()
    expect(await (await h.send('/data/price/a')).json()).toEqual({ sku: 'a', cents: 100 })
    expect(await (await h.send('/data/price/a')).json()).toEqual({ sku: 'a', cents: 100 })
    expect(h.count.price).toBe(1)
  })

  it('refreshes in the background through c.executionCtx.waitUntil', async () => {
    const h = build()
    await h.send('/data/price/b')
    h.clock.advance(120_000)
    expect(await (await h.send('/data/price/b')).json()).toEqual({ sku: 'b', cents: 100 })
    // waitOnExecutionContext (in send) waited for the refresh: it ran within that request's waitUntil.
    expect(h.count.price).toBe(2)
    expect(await (await h.send('/data/price/b')).json()).toEqual({ sku: 'b', cents: 200 })
  })

  it('works where Hono has no execution context (app.request outside Workers)', async () => {
    const h = build()
    const res = await h.app.request('/data/price/c')
    expect(await res.json()).toEqual({ sku: 'c', cents: 100 })
  })

  it('needs tiercache() on the route', async () => {
    const app = new Hono()
    app.get('/x', async (c) => c.json(await cached(c, 'k', () => 1)))
    app.onError((error, c) => c.text(error.message, 500))
    const res = await app.request('/x')
    expect(await res.text()).toMatch(/needs the tiercache\(\) middleware/)
  })
})
