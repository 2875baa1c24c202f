// withCache in workerd: real Cache API L1, real ctx.waitUntil, core's injected clock for lifetimes.
import { createCache, memoryStore, type Cache, type CacheEvent, type Policy, type Store } from '@tiercache/core'
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { cacheApiStore, withCache, type WithCacheOptions } from '../../src/index'
import { manualClock, unique } from '../support/services'

type Route = (request: Request, n: number) => Response | Promise<Response>

interface Setup {
  /** Sends a request through withCache and waits for its background work (ctx.waitUntil). */
  send(path: string, init?: RequestInit): Promise<Response>
  /** Sends without waiting for background work; `done` waits for it. */
  start(path: string, init?: RequestInit): Promise<{ response: Response; done: Promise<void> }>
  /** Requests the origin received, per path. */
  seen: Map<string, Request[]>
  calls(path: string): number
  clock: ReturnType<typeof manualClock>
  cache: Cache
  events: CacheEvent[]
}

function setup(routes: Record<string, Route>, options: Partial<WithCacheOptions> = {}, l2: Store = memoryStore(), clock = manualClock()): Setup {
  const events: CacheEvent[] = []
  const cache = createCache({ tiers: [cacheApiStore({ cacheName: unique('with-cache'), now: clock.now }), l2], now: clock.now, onEvent: (e) => events.push(e) })
  const seen = new Map<string, Request[]>()
  const handler = withCache(
    async (request) => {
      const path = new URL(request.url).pathname
      const list = seen.get(path) ?? []
      list.push(request)
      seen.set(path, list)
      const route = routes[path]
      if (route === undefined) return new Response('no route', { status: 500 })
      return route(request, list.length)
    },
    { cache, policy: { ttl: '1m' }, now: clock.now, ...options },
  )
  async function start(path: string, init?: RequestInit): Promise<{ response: Response; done: Promise<void> }> {
    const ctx = createExecutionContext()
    const response = await handler(new Request(`https://edge.test${path}`, init), {}, ctx)
    return { response, done: waitOnExecutionContext(ctx) }
  }
  return {
    start,
    async send(path, init) {
      const { response, done } = await start(path, init)
      await done
      return response
    },
    seen,
    calls: (path) => seen.get(path)?.length ?? 0,
    clock,
    cache,
    events,
  }
}

const text = (body: string, headers: Record<string, string> = {}, status = 200): Response =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } })

describe('withCache: miss, hit and the headers of a cached answer', () => {
  it('stores a miss and answers the next request from L1, with Cache-Control, CDN-Cache-Control, Age and Cache-Status', async () => {
    const s = setup({ '/page': (_req, n) => text(`page ${n}`, { etag: `"v${n}"`, 'x-origin': 'yes', 'cache-control': 'public, max-age=5' }) }, {
      policy: { ttl: '1m', swr: '5m', staleIfError: '1h' },
    })
    const miss = await s.send('/page')
    expect(miss.status).toBe(200)
    expect(await miss.text()).toBe('page 1')
    expect(miss.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    expect(miss.headers.get('cache-control')).toBe('public, max-age=60, stale-while-revalidate=300, stale-if-error=3600')
    expect(miss.headers.get('cdn-cache-control')).toBe('max-age=60, stale-while-revalidate=300, stale-if-error=3600')
    expect(miss.headers.get('age')).toBe('0')
    s.clock.advance(15_000)
    const hit = await s.send('/page')
    expect(await hit.text()).toBe('page 1')
    expect(hit.headers.get('cache-status')).toBe('tiercache; hit; ttl=45; detail=L1')
    expect(hit.headers.get('age')).toBe('15')
    // max-age stays the entry's lifetime: downstream caches subtract Age themselves (RFC 9111 §4.2.3).
    expect(hit.headers.get('cache-control')).toBe('public, max-age=60, stale-while-revalidate=300, stale-if-error=3600')
    expect(hit.headers.get('etag')).toBe('"v1"')
    expect(hit.headers.get('x-origin')).toBe('yes')
    expect(s.calls('/page')).toBe(1)
  })

  it('names L2 when the answer came from there (a fresh isolate sharing the L2)', async () => {
    const l2 = memoryStore()
    const clock = manualClock()
    const routes = { '/shared': () => text('shared') }
    await setup(routes, {}, l2, clock).send('/shared')
    const other = setup(routes, {}, l2, clock)
    const res = await other.send('/shared')
    expect(res.headers.get('cache-status')).toBe('tiercache; hit; ttl=60; detail=L2')
    expect(other.calls('/shared')).toBe(0)
    // ...and filled its own L1 through waitUntil.
    expect((await other.send('/shared')).headers.get('cache-status')).toBe('tiercache; hit; ttl=60; detail=L1')
  })

  it('answers concurrent requests for one key with one origin call', async () => {
    const s = setup({
      '/slow': async () => {
        await new Promise((r) => setTimeout(r, 50))
        return text('slow')
      },
    })
    const responses = await Promise.all(Array.from({ length: 5 }, () => s.send('/slow')))
    expect(await Promise.all(responses.map((r) => r.text()))).toEqual(Array(5).fill('slow'))
    expect(s.calls('/slow')).toBe(1)
    const statuses = responses.map((r) => r.headers.get('cache-status'))
    expect(statuses.filter((v) => v === 'tiercache; fwd=miss; stored')).toHaveLength(1)
    expect(statuses.filter((v) => v === 'tiercache; fwd=miss; stored; collapsed')).toHaveLength(4)
  })

  it('gives a Set-Cookie answer to its own request only: the requests that joined its load each ask the origin (ctx.skip())', async () => {
    const s = setup({
      '/once': async (_req, n) => {
        await new Promise((r) => setTimeout(r, 50))
        return n === 1 ? text('yours', { 'set-cookie': 'session=1' }) : text(`shared ${n}`)
      },
    })
    const responses = await Promise.all(Array.from({ length: 4 }, () => s.send('/once')))
    const bodies = await Promise.all(responses.map((r) => r.text()))
    expect(bodies.filter((b) => b === 'yours')).toHaveLength(1)
    expect(responses.filter((r) => r.headers.get('set-cookie') !== null)).toHaveLength(1)
    expect(responses.filter((r) => r.headers.get('cache-status') === 'tiercache; fwd=miss; detail=not-stored:set-cookie')).toHaveLength(1)
    // Each joiner ran its own load (nothing is shared from a skipped one), and what they loaded was stored.
    expect(s.calls('/once')).toBe(4)
    const next = await s.send('/once')
    expect(next.headers.get('cache-status')).toBe('tiercache; hit; ttl=60; detail=L1')
    expect(await next.text()).toMatch(/^shared [234]$/)
  })

  it('keeps binary bodies byte for byte', async () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 255, 128, 7])
    const s = setup({ '/logo.png': () => new Response(bytes, { headers: { 'content-type': 'image/png' } }) })
    await s.send('/logo.png')
    const hit = await s.send('/logo.png')
    expect(hit.headers.get('cache-status')).toMatch(/hit/)
    expect(new Uint8Array(await hit.arrayBuffer())).toEqual(bytes)
    expect(hit.headers.get('content-type')).toBe('image/png')
  })

  it('uses a per-request policy, and passes requests whose policy is undefined straight through', async () => {
    const s = setup({ '/api/x': () => text('api'), '/admin': () => text('admin') }, {
      policy: (req: Request): Policy | undefined => (new URL(req.url).pathname.startsWith('/api/') ? { ttl: '10s' } : undefined),
    })
    expect((await s.send('/api/x')).headers.get('cache-control')).toBe('public, max-age=10')
    const admin = await s.send('/admin')
    expect(admin.headers.get('cache-status')).toBe('tiercache; fwd=bypass')
    expect(admin.headers.get('cache-control')).toBeNull()
    await s.send('/admin')
    expect(s.calls('/admin')).toBe(2)
  })

  it('passes other methods through with fwd=method', async () => {
    const s = setup({ '/form': () => text('posted') })
    const res = await s.send('/form', { method: 'POST', body: 'a=1' })
    expect(res.headers.get('cache-status')).toBe('tiercache; fwd=method; detail=method')
    await s.send('/form', { method: 'POST', body: 'a=1' })
    expect(s.calls('/form')).toBe(2)
  })
})

describe('withCache: stale-while-revalidate, stale-if-error, origin errors', () => {
  it('answers stale at once within swr and refreshes through ctx.waitUntil', async () => {
    // The refresh's origin call is held until the stale answer is in: answering at all means the client did not
    // wait for the refresh (an order, not a time bound, which a loaded machine broke). Released anyway after 10 s,
    // so that a handler that waits for the refresh fails on the assertion rather than by hanging.
    let release = (): void => undefined
    const held = new Promise<void>((resolve) => (release = resolve))
    let releasedByTimer = false
    const s = setup({
      '/news': async (_req, n) => {
        if (n > 1) await held
        return text(`news ${n}`)
      },
    }, { policy: { ttl: '1m', swr: '10m' } })
    await s.send('/news')
    s.clock.advance(90_000)
    const timer = setTimeout(() => {
      releasedByTimer = true
      release()
    }, 10_000)
    const { response, done } = await s.start('/news')
    expect(releasedByTimer).toBe(false)
    clearTimeout(timer)
    release()
    expect(await response.text()).toBe('news 1')
    expect(response.headers.get('cache-status')).toBe('tiercache; hit; ttl=-30; detail=L1')
    expect(response.headers.get('age')).toBe('90')
    await done
    expect(s.calls('/news')).toBe(2)
    const fresh = await s.send('/news')
    expect(await fresh.text()).toBe('news 2')
    expect(fresh.headers.get('cache-status')).toBe('tiercache; hit; ttl=60; detail=L1')
  })

  it('answers stale within staleIfError when the origin answers 5xx or throws', async () => {
    let mode: 'ok' | '503' | 'throw' = 'ok'
    const s = setup({
      '/flaky': (_req, n) => {
        if (mode === '503') return text('down', {}, 503)
        if (mode === 'throw') throw new Error('origin exploded')
        return text(`good ${n}`)
      },
    }, { policy: { ttl: '1m', staleIfError: '1h' } })
    await s.send('/flaky')
    s.clock.advance(120_000)
    for (const m of ['503', 'throw'] as const) {
      mode = m
      // Past core's refresh backoff after the previous failure (at most 1.25 s), the origin is asked again.
      s.clock.advance(1_250)
      const res = await s.send('/flaky')
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('good 1')
      expect(res.headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=-6\d; detail=L1\/stale-if-error$/)
    }
    expect(s.events.filter((e) => e.type === 'error' && e.error?.code === 'LOADER_ERROR')).toHaveLength(2)
  })

  it('answers the origin\'s own 5xx, uncached, when nothing stale can', async () => {
    const s = setup({ '/broken': (_req, n) => text(`broken ${n}`, { 'retry-after': '5' }, 503) })
    const first = await s.send('/broken')
    expect(first.status).toBe(503)
    expect(await first.text()).toBe('broken 1')
    expect(first.headers.get('retry-after')).toBe('5')
    expect(first.headers.get('cache-status')).toBe('tiercache; fwd=miss; detail=not-stored:error')
    expect(await (await s.send('/broken')).text()).toBe('broken 2')
  })

  it('lets an origin exception through when nothing stale can answer', async () => {
    const s = setup({
      '/throws': () => {
        throw new Error('handler bug')
      },
    })
    await expect(s.send('/throws')).rejects.toThrow('handler bug')
  })
})

describe('withCache: what is never stored', () => {
  const uncacheable: Array<[string, Route, string]> = [
    ['a response with Set-Cookie', () => text('hi', { 'set-cookie': 'session=abc; HttpOnly' }), 'set-cookie'],
    ['Cache-Control: private', () => text('mine', { 'cache-control': 'private, max-age=600' }), 'private'],
    ['Cache-Control: no-store', () => text('secret', { 'cache-control': 'no-store' }), 'no-store'],
    ['Cache-Control: no-cache', () => text('check', { 'cache-control': 'no-cache' }), 'no-cache'],
    ['Vary: *', () => text('any', { vary: '*' }), 'vary'],
    ['206 Partial Content', () => text('pa', { 'content-range': 'bytes 0-1/10' }, 206), 'partial'],
    ['a 302 redirect', () => new Response(null, { status: 302, headers: { location: '/elsewhere' } }), 'status'],
    ['an event stream', () => text('data: 1\n\n', { 'content-type': 'text/event-stream' }), 'stream'],
  ]
  for (const [label, route, reason] of uncacheable) {
    it(`passes ${label} through and asks the origin every time`, async () => {
      const s = setup({ '/r': route })
      const first = await s.send('/r')
      expect(first.headers.get('cache-status')).toBe(`tiercache; fwd=miss; detail=not-stored:${reason}`)
      const second = await s.send('/r')
      expect(second.headers.get('cache-status')).toBe(`tiercache; fwd=miss; detail=not-stored:${reason}`)
      expect(s.calls('/r')).toBe(2)
      if (reason === 'set-cookie') expect(second.headers.get('set-cookie')).toBe('session=abc; HttpOnly')
      if (reason === 'private') expect(second.headers.get('cache-control')).toBe('private, max-age=600')
    })
  }

  it('drops what it held for a key when the origin turns uncacheable (a stale entry is not served again)', async () => {
    let cookie = false
    const s = setup({ '/turns': (_req, n) => text(`v${n}`, cookie ? { 'set-cookie': 'a=b' } : {}) }, { policy: { ttl: '1m', swr: '1h' } })
    await s.send('/turns')
    s.clock.advance(61_000)
    cookie = true
    // Served stale (swr), refreshed in the background: the refresh meets Set-Cookie and stores nothing.
    expect(await (await s.send('/turns')).text()).toBe('v1')
    const next = await s.send('/turns')
    expect(await next.text()).toBe('v3')
    expect(next.headers.get('cache-status')).toBe('tiercache; fwd=miss; detail=not-stored:set-cookie')
  })

  it('does not cache a body larger than maxBodySize, whether announced or not', async () => {
    const big = 'x'.repeat(2_000)
    const s = setup({
      '/announced': () => text(big, { 'content-length': String(big.length) }),
      '/streamed': () => new Response(new Blob([big]).stream(), { headers: { 'content-type': 'text/plain' } }),
    }, { maxBodySize: 1_000 })
    for (const path of ['/announced', '/streamed']) {
      const res = await s.send(path)
      expect(await res.text()).toBe(big)
      expect(res.headers.get('cache-status')).toBe('tiercache; fwd=miss; detail=not-stored:too-large')
      await s.send(path)
      expect(s.calls(path)).toBe(2)
    }
  })

  it('does not cache requests with Authorization or Cookie, unless allowed', async () => {
    const s = setup({ '/me': (_req, n) => text(`me ${n}`) })
    for (const [header, detail] of [['authorization', 'authorization'], ['cookie', 'cookie']] as const) {
      const res = await s.send('/me', { headers: { [header]: 'x' } })
      expect(res.headers.get('cache-status')).toBe(`tiercache; fwd=bypass; detail=${detail}`)
    }
    expect(s.calls('/me')).toBe(2)
    // An anonymous request fills the cache; a request with credentials still does not read it.
    await s.send('/me')
    expect(await (await s.send('/me', { headers: { authorization: 'Bearer t' } })).text()).toBe('me 4')

    const allowed = setup({ '/public': (_req, n) => text(`public ${n}`) }, { allowAuthorization: true, allowCookie: true })
    await allowed.send('/public', { headers: { authorization: 'Bearer a', cookie: 'x=1' } })
    const hit = await allowed.send('/public', { headers: { authorization: 'Bearer b' } })
    expect(await hit.text()).toBe('public 1')
    expect(hit.headers.get('cache-status')).toMatch(/^tiercache; hit/)
  })

  it('leaves WebSocket upgrades alone', async () => {
    const s = setup({ '/ws': () => text('upgrade answer', {}, 426) })
    const res = await s.send('/ws', { headers: { upgrade: 'websocket' } })
    expect(res.status).toBe(426)
    expect(res.headers.get('cache-status')).toBeNull()
  })
})

describe('withCache: Vary, HEAD, negative caching, conditional requests', () => {
  it('keys by the request headers named in vary, and respects the response\'s Vary on them', async () => {
    const s = setup({ '/hello': (req) => text(req.headers.get('accept-language')?.startsWith('fr') ? 'bonjour' : 'hello', { vary: 'Accept-Language, Accept-Encoding' }) }, {
      vary: ['Accept-Language'],
    })
    expect(await (await s.send('/hello', { headers: { 'accept-language': 'en' } })).text()).toBe('hello')
    expect(await (await s.send('/hello', { headers: { 'accept-language': 'fr' } })).text()).toBe('bonjour')
    const en = await s.send('/hello', { headers: { 'accept-language': 'en' } })
    expect(await en.text()).toBe('hello')
    expect(en.headers.get('cache-status')).toMatch(/^tiercache; hit/)
    const fr = await s.send('/hello', { headers: { 'accept-language': 'fr' } })
    expect(await fr.text()).toBe('bonjour')
    expect(fr.headers.get('vary')).toBe('Accept-Language, Accept-Encoding')
    expect(s.calls('/hello')).toBe(2)
  })

  it("learns the response's Vary: each variant is stored under its own key, selected by the fields it names (RFC 9111 §4.1)", async () => {
    const s = setup({ '/ua': (req, n) => text(`${req.headers.get('user-agent') ?? 'none'} ${n}`, { vary: 'User-Agent' }) })
    const a = await s.send('/ua', { headers: { 'user-agent': 'A' } })
    expect(a.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    const b = await s.send('/ua', { headers: { 'user-agent': 'B' } })
    expect(await b.text()).toBe('B 2')
    expect(b.headers.get('cache-status')).toBe('tiercache; fwd=vary-miss; stored')
    const none = await s.send('/ua')
    expect(await none.text()).toBe('none 3')
    for (const [ua, body] of [['A', 'A 1'], ['B', 'B 2']]) {
      const hit = await s.send('/ua', { headers: { 'user-agent': ua as string } })
      expect(await hit.text()).toBe(body)
      expect(hit.headers.get('cache-status')).toMatch(/^tiercache; hit/)
      expect(hit.headers.get('vary')).toBe('User-Agent')
    }
    expect(await (await s.send('/ua')).text()).toBe('none 3')
    expect(s.calls('/ua')).toBe(3)
  })

  it('follows a Vary that changes: the URL key is rewritten, and an unsafe method drops every variant', async () => {
    let vary = 'x-a'
    const s = setup({ '/c': (req, n) => (req.method === 'POST' ? new Response(null, { status: 204 }) : text(`v${n}`, { vary })) }, { policy: { ttl: '1m' } })
    await s.send('/c', { headers: { 'x-a': '1' } })
    s.clock.advance(61_000)
    vary = 'x-b'
    // The variant for x-a: 1 expired; its reload varies on x-b now.
    expect(await (await s.send('/c', { headers: { 'x-a': '1', 'x-b': '1' } })).text()).toBe('v2')
    expect(await (await s.send('/c', { headers: { 'x-a': '2', 'x-b': '1' } })).text()).toBe('v2')
    expect(await (await s.send('/c', { headers: { 'x-b': '2' } })).text()).toBe('v3')
    // A variant miss whose answer varies on another field: that field's variant, and the URL key names it.
    vary = 'x-c'
    expect(await (await s.send('/c', { headers: { 'x-b': '9', 'x-c': '1' } })).text()).toBe('v4')
    const hit = await s.send('/c', { headers: { 'x-b': '2', 'x-c': '1' } })
    expect(await hit.text()).toBe('v4')
    expect(hit.headers.get('cache-status')).toMatch(/^tiercache; hit/)
    await s.send('/c', { method: 'POST' })
    expect(await (await s.send('/c', { headers: { 'x-c': '1' } })).text()).toBe('v6')
  })

  it('keeps an empty keyed header and a missing one apart', async () => {
    const s = setup({ '/t': (req) => text(`tenant=[${req.headers.get('x-tenant') ?? 'none'}]`) }, { vary: ['x-tenant'] })
    expect(await (await s.send('/t', { headers: { 'x-tenant': '' } })).text()).toBe('tenant=[]')
    expect(await (await s.send('/t')).text()).toBe('tenant=[none]')
    expect(await (await s.send('/t', { headers: { 'x-tenant': '' } })).text()).toBe('tenant=[]')
    expect(await (await s.send('/t')).text()).toBe('tenant=[none]')
    expect(s.calls('/t')).toBe(2)
  })

  it('adds the keyed headers to Vary, so that downstream caches keep the variants apart too', async () => {
    const s = setup({ '/v': () => text('v'), '/w': () => text('w', { vary: 'accept-encoding' }) }, { vary: ['Accept-Language', 'x-tenant'] })
    expect((await s.send('/v')).headers.get('vary')).toBe('accept-language, x-tenant')
    expect((await s.send('/w')).headers.get('vary')).toBe('accept-encoding, accept-language, x-tenant')
  })

  it('answers HEAD from the GET entry, and fills it with a GET on a HEAD miss', async () => {
    const s = setup({ '/doc': (req, n) => text(`doc ${n} via ${req.method}`, { etag: '"d"' }) })
    const headMiss = await s.send('/doc', { method: 'HEAD' })
    expect(headMiss.status).toBe(200)
    expect(await headMiss.text()).toBe('')
    expect(s.seen.get('/doc')![0]!.method).toBe('GET')
    const get = await s.send('/doc')
    expect(await get.text()).toBe('doc 1 via GET')
    expect(get.headers.get('cache-status')).toBe('tiercache; hit; ttl=60; detail=L1')
    const head = await s.send('/doc', { method: 'HEAD' })
    expect(head.headers.get('etag')).toBe('"d"')
    expect(head.headers.get('cache-status')).toBe('tiercache; hit; ttl=60; detail=L1')
    expect(await head.text()).toBe('')
    expect(s.calls('/doc')).toBe(1)
  })

  it('keeps a 404 (and 410) with its body for negativeTtl only', async () => {
    const s = setup({ '/missing': (_req, n) => text(`not here ${n}`, {}, 404), '/gone': () => text('gone', {}, 410) }, {
      policy: { ttl: '1h', swr: '1h', staleIfError: '1d' },
      negativeTtl: '30s',
    })
    const first = await s.send('/missing')
    expect(first.status).toBe(404)
    expect(first.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    expect(first.headers.get('cache-control')).toBe('public, max-age=30')
    s.clock.advance(29_000)
    const hit = await s.send('/missing')
    expect(hit.status).toBe(404)
    expect(await hit.text()).toBe('not here 1')
    expect(hit.headers.get('cache-status')).toBe('tiercache; hit; ttl=1; detail=L1')
    // No swr or stale-if-error for a negative entry: at 30 s it is gone.
    s.clock.advance(1_000)
    const again = await s.send('/missing')
    expect(await again.text()).toBe('not here 2')
    expect(s.calls('/missing')).toBe(2)
    await s.send('/gone')
    expect((await s.send('/gone')).headers.get('cache-status')).toMatch(/^tiercache; hit/)
  })

  it('takes negativeTtl from the policy, and does not store 404s when neither sets it', async () => {
    const fromPolicy = setup({ '/nf': () => text('nf', {}, 404) }, { policy: { ttl: '1h', negativeTtl: '5s' } })
    expect((await fromPolicy.send('/nf')).headers.get('cache-control')).toBe('public, max-age=5')
    const none = setup({ '/nf': () => text('nf', {}, 404) })
    expect((await none.send('/nf')).headers.get('cache-status')).toBe('tiercache; fwd=miss; detail=not-stored:status')
    await none.send('/nf')
    expect(none.calls('/nf')).toBe(2)
  })

  it('strips the client\'s conditional and range headers before calling the origin for a fill', async () => {
    const s = setup({ '/cond': () => text('full body', { etag: '"e1"' }) })
    const res = await s.send('/cond', {
      headers: { 'if-none-match': '"other"', 'if-modified-since': new Date(0).toUTCString(), range: 'bytes=0-3', 'if-range': '"e1"', 'x-kept': 'yes' },
    })
    const sent = s.seen.get('/cond')![0]!
    for (const name of ['if-none-match', 'if-modified-since', 'range', 'if-range']) expect(sent.headers.has(name)).toBe(false)
    expect(sent.headers.get('x-kept')).toBe('yes')
    // The fill got the complete body; the client's range (its If-Range matching) is cut from it.
    expect(res.status).toBe(206)
    expect(res.headers.get('content-range')).toBe('bytes 0-3/9')
    expect(await res.text()).toBe('full')
  })

  it('answers one byte range of a stored complete 200 with a 206 (RFC 9110 §14), else the whole 200', async () => {
    const s = setup({ '/r': () => text('0123456789', { etag: '"r1"' }) })
    await s.send('/r')
    const cases: [Record<string, string>, number, string, string | null][] = [
      [{ range: 'bytes=2-4' }, 206, '234', 'bytes 2-4/10'],
      [{ range: 'bytes=7-' }, 206, '789', 'bytes 7-9/10'],
      [{ range: 'bytes=-3' }, 206, '789', 'bytes 7-9/10'],
      [{ range: 'bytes=5-100' }, 206, '56789', 'bytes 5-9/10'],
      [{ range: 'bytes=0-1, 4-5' }, 200, '0123456789', null],
      [{ range: 'bytes=20-' }, 200, '0123456789', null],
      [{ range: 'bytes=2-4', 'if-range': '"old"' }, 200, '0123456789', null],
      [{ range: 'bytes=2-4', 'if-range': '"r1"' }, 206, '234', 'bytes 2-4/10'],
    ]
    for (const [headers, status, body, contentRange] of cases) {
      const res = await s.send('/r', { headers })
      expect([res.status, await res.text(), res.headers.get('content-range')]).toEqual([status, body, contentRange])
    }
    expect(s.calls('/r')).toBe(1)
  })

  it('answers 304 from the cache when If-None-Match or If-Modified-Since match the stored response', async () => {
    const lastModified = new Date(Date.UTC(2024, 0, 1)).toUTCString()
    const s = setup({ '/etag': () => text('etag body', { etag: 'W/"abc"', 'last-modified': lastModified }) })
    await s.send('/etag')
    const byEtag = await s.send('/etag', { headers: { 'if-none-match': '"xyz", "abc"' } })
    expect(byEtag.status).toBe(304)
    expect(await byEtag.text()).toBe('')
    expect(byEtag.headers.get('etag')).toBe('W/"abc"')
    expect(byEtag.headers.get('cache-status')).toBe('tiercache; hit; ttl=60; detail=L1')
    expect(byEtag.headers.get('cache-control')).toBe('public, max-age=60')
    const byDate = await s.send('/etag', { headers: { 'if-modified-since': new Date(Date.UTC(2024, 5, 1)).toUTCString() } })
    expect(byDate.status).toBe(304)
    const changed = await s.send('/etag', { headers: { 'if-none-match': '"other"' } })
    expect(changed.status).toBe(200)
    expect(await changed.text()).toBe('etag body')
    expect(s.calls('/etag')).toBe(1)
  })
})

describe('withCache: web cache poisoning through headers the key ignores', () => {
  // An origin that builds links from the forwarding headers (as frameworks behind a proxy do) and honours a method
  // override: answers that depend on headers the key (method + URL) does not include.
  const reflecting: Route = (req) =>
    text(
      `host=${req.headers.get('x-forwarded-host') ?? '-'} proto=${req.headers.get('x-forwarded-proto') ?? '-'} ` +
        `url=${req.headers.get('x-original-url') ?? req.headers.get('x-rewrite-url') ?? '-'} method=${req.headers.get('x-http-method-override') ?? req.method}`,
    )
  const CLEAN = 'host=- proto=- url=- method=GET'
  const attacks: Array<[string, string]> = [
    ['x-forwarded-host', 'evil.example'],
    ['x-forwarded-proto', 'javascript'],
    ['x-original-url', '/admin'],
    ['x-rewrite-url', '/admin'],
    ['x-http-method-override', 'DELETE'],
  ]

  it.each(attacks)('by default strips %s before the origin sees a request whose answer may be stored', async (name, value) => {
    const s = setup({ '/page': reflecting })
    const attacked = await s.send('/page', { headers: { [name]: value } })
    expect(await attacked.text()).toBe(CLEAN)
    expect(s.seen.get('/page')![0]!.headers.has(name)).toBe(false)
    const victim = await s.send('/page')
    expect(await victim.text()).toBe(CLEAN)
    expect(victim.headers.get('cache-status')).toMatch(/^tiercache; hit/)
  })

  it.each(attacks)("with unkeyedHeaders: 'bypass', a request carrying %s passes through uncached", async (name, value) => {
    const s = setup({ '/page': reflecting }, { unkeyedHeaders: 'bypass' })
    const attacked = await s.send('/page', { headers: { [name]: value } })
    expect(await attacked.text()).toContain(value)
    expect(attacked.headers.get('cache-status')).toBe('tiercache; fwd=bypass; detail=unkeyed-header')
    const victim = await s.send('/page')
    expect(await victim.text()).toBe(CLEAN)
    expect(victim.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
  })

  it("leaves them alone with unkeyedHeaders: 'allow', and never touches a header the key includes", async () => {
    const allowing = setup({ '/page': reflecting }, { unkeyedHeaders: 'allow' })
    expect(await (await allowing.send('/page', { headers: { 'x-forwarded-host': 'evil.example' } })).text()).toContain('evil.example')
    const keyed = setup({ '/page': reflecting }, { vary: ['X-Forwarded-Host'] })
    expect(await (await keyed.send('/page', { headers: { 'x-forwarded-host': 'a.example' } })).text()).toContain('host=a.example')
    expect(await (await keyed.send('/page')).text()).toBe(CLEAN)
    expect(keyed.calls('/page')).toBe(2)
  })

  it('takes its own list of header names', async () => {
    const s = setup({ '/page': (req) => text(`tenant=${req.headers.get('x-tenant') ?? '-'}`) }, { unkeyedHeaderNames: ['X-Tenant'] })
    expect(await (await s.send('/page', { headers: { 'x-tenant': 'evil' } })).text()).toBe('tenant=-')
    expect(() => setup({}, { unkeyedHeaders: 'drop' as never })).toThrow(/options\.unkeyedHeaders/)
    expect(() => setup({}, { unkeyedHeaderNames: ['bad name'] })).toThrow(/options\.unkeyedHeaderNames\[0\]/)
  })
})

describe('withCache: collapsed requests and answers that may not be shared', () => {
  it("gives every collapsed request its own answer when the origin fails: never another request's error body", async () => {
    const s = setup({
      '/me': async (req) => {
        await new Promise((r) => setTimeout(r, 50))
        return text(`error for ${req.headers.get('x-user')}`, { 'set-cookie': `seen=${req.headers.get('x-user')}` }, 503)
      },
    })
    const responses = await Promise.all(Array.from({ length: 8 }, (_, i) => s.send('/me', { headers: { 'x-user': `user${i}` } })))
    const bodies = await Promise.all(responses.map((r) => r.text()))
    expect(bodies).toEqual(Array.from({ length: 8 }, (_, i) => `error for user${i}`))
    responses.forEach((r, i) => {
      expect(r.status).toBe(503)
      expect(r.headers.get('set-cookie')).toBe(`seen=user${i}`)
    })
  })

  it("gives every collapsed request its own answer when the origin's may not be stored (Set-Cookie)", async () => {
    const s = setup({
      '/login': async (req) => {
        await new Promise((r) => setTimeout(r, 50))
        return text(`hello ${req.headers.get('x-user')}`, { 'set-cookie': `session=${req.headers.get('x-user')}` })
      },
    })
    const responses = await Promise.all(Array.from({ length: 8 }, (_, i) => s.send('/login', { headers: { 'x-user': `user${i}` } })))
    expect(await Promise.all(responses.map((r) => r.text()))).toEqual(Array.from({ length: 8 }, (_, i) => `hello user${i}`))
    responses.forEach((r, i) => expect(r.headers.get('set-cookie')).toBe(`session=user${i}`))
  })

  it('still shares a storable answer: one origin call for concurrent requests', async () => {
    const s = setup({
      '/shared': async () => {
        await new Promise((r) => setTimeout(r, 50))
        return text('for everyone')
      },
    })
    const responses = await Promise.all(Array.from({ length: 8 }, () => s.send('/shared')))
    expect(await Promise.all(responses.map((r) => r.text()))).toEqual(Array(8).fill('for everyone'))
    expect(s.calls('/shared')).toBe(1)
  })
})

describe('withCache: cache factory, handler shapes and options', () => {
  it('builds the cache once per isolate from the first env, and views it per request', async () => {
    let built = 0
    const handler = withCache(async () => text('x'), {
      cache: () => {
        built++
        return createCache({ tiers: [cacheApiStore({ cacheName: unique('factory') }), memoryStore()] })
      },
      policy: { ttl: '1m' },
    })
    for (let i = 0; i < 3; i++) {
      const ctx = createExecutionContext()
      await (await handler(new Request('https://edge.test/f'), {}, ctx)).text()
      await waitOnExecutionContext(ctx)
    }
    expect(built).toBe(1)
  })

  it('wraps a handler object (a module Worker export, a Hono app) and keeps its other members', async () => {
    const worker: ExportedHandler = {
      async fetch(): Promise<Response> {
        return text('object')
      },
      async scheduled(): Promise<void> {},
    }
    const wrapped = withCache(worker, { cache: createCache({ tiers: [memoryStore()] }), policy: { ttl: '1m' } })
    expect(wrapped.scheduled).toBe(worker.scheduled)
    const res = await wrapped.fetch!(new Request('https://edge.test/o'), {}, createExecutionContext())
    expect(res.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
  })

  it('rejects bad options at the factory, naming the option and the rule', () => {
    const cache = createCache({ tiers: [memoryStore()] })
    const ok = async (): Promise<Response> => text('x')
    expect(() => withCache(ok, { cache, policy: undefined as never })).toThrow(/options\.policy is required/)
    expect(() => withCache(ok, { cache: {} as never, policy: { ttl: '1m' } })).toThrow(/options\.cache/)
    expect(() => withCache(ok, { cache, policy: { ttl: 'forever' as never } })).toThrow(/options\.policy\.ttl/)
    expect(() => withCache(ok, { cache, policy: { ttl: '1m' }, vary: ['*'] })).toThrow(/options\.vary/)
    expect(() => withCache(ok, { cache, policy: { ttl: '1m' }, vary: ['bad header'] })).toThrow(/options\.vary\[0\]/)
    expect(() => withCache(ok, { cache, policy: { ttl: '1m' }, negativeTtl: -1 })).toThrow(/options\.negativeTtl/)
    expect(() => withCache(ok, { cache, policy: { ttl: '1m' }, maxBodySize: 0 })).toThrow(/options\.maxBodySize/)
    expect(() => withCache(ok, { cache, policy: { ttl: '1m' }, statusName: 'two words' })).toThrow(/options\.statusName/)
    expect(() => withCache(ok, { cache, policy: { ttl: '1m' }, allowCookie: 'yes' as never })).toThrow(/options\.allowCookie/)
    expect(() => withCache({} as never, { cache, policy: { ttl: '1m' } })).toThrow(/withCache\(handler\)/)
  })
})
