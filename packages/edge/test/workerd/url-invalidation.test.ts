// Invalidation by URL and by path prefix through the one call that reaches every layer: tiercache's tiers of two
// isolates (real Cache API L1 each, one shared L2 and coordinator, withCache with urlTags) and Workers Cache (a
// recording stand-in on the real runtime's ctx: local workerd has no ctx.cache). Also the outward caching headers
// of pass-through answers.
import { createCache, memoryCoordinator, memoryStore, type Cache } from '@tiercache/core'
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { cacheApiStore, invalidateEverywhere, withCache, withWorkersCache, type PurgeSelector, type WithCacheOptions, type WorkersCacheLike } from '../../src/index'
import { manualClock, unique } from '../support/services'

function recordingWorkersCache(): WorkersCacheLike & { calls: { method: string; selector: PurgeSelector }[] } {
  const calls: { method: string; selector: PurgeSelector }[] = []
  return {
    calls,
    purge: async (selector) => (calls.push({ method: 'purge', selector: structuredClone(selector) }), { success: true, errors: [] }),
    invalidate: async (selector) => (calls.push({ method: 'invalidate', selector: structuredClone(selector) }), { success: true, errors: [] }),
  }
}

/** Two isolates running the same Worker: each its own Cache API L1, one shared L2 and coordinator, one origin. */
function twoIsolates(options: Partial<WithCacheOptions> = {}) {
  const clock = manualClock()
  const l2 = memoryStore()
  const coordinator = memoryCoordinator()
  const calls = new Map<string, number>()
  let version = 1
  const origin = (request: Request): Response => {
    const url = new URL(request.url)
    const key = url.pathname + url.search
    calls.set(key, (calls.get(key) ?? 0) + 1)
    const lang = request.headers.get('accept-language')
    const headers: Record<string, string> = { 'content-type': 'text/plain' }
    if (url.pathname.startsWith('/varies/')) headers.vary = 'accept-language'
    return new Response(`${key} v${version}${lang === null ? '' : ` ${lang}`}`, { headers })
  }
  const isolate = () => {
    const cache = createCache({ tiers: [cacheApiStore({ cacheName: unique('url-inv'), now: clock.now }), l2], coordinator, now: clock.now, namespace: 'shop' })
    const handler = withCache(origin, { cache, now: clock.now, policy: { ttl: '5m', swr: '1m', tags: ['products'] }, urlTags: true, ...options })
    const send = async (path: string, init?: RequestInit): Promise<Response> => {
      const ctx = createExecutionContext()
      const response = await handler(new Request(`https://shop.test${path}`, init), {}, ctx)
      await waitOnExecutionContext(ctx)
      return response
    }
    return { cache, send }
  }
  return {
    a: isolate(),
    b: isolate(),
    clock,
    calls: (key: string) => calls.get(key) ?? 0,
    change: () => void version++,
  }
}

async function body(response: Response): Promise<string> {
  return response.text()
}

describe('invalidateEverywhere by path prefix and URL (withCache urlTags)', () => {
  const paths = ['/api/products/1', '/api/products/2?lang=en', '/api/products-old/1', '/api/other']

  it('hard, by path prefix: every isolate reloads the paths under it (whole segments), Workers Cache purges the prefix', async () => {
    const w = twoIsolates()
    for (const path of paths) expect(await body(await w.a.send(path))).toBe(`${path} v1`)
    for (const path of paths) expect((await w.b.send(path)).headers.get('cache-status')).toMatch(/^tiercache; hit; .*detail=L2$/)
    w.change()
    const workersCache = recordingWorkersCache()
    const report = await invalidateEverywhere(w.a.cache, { pathPrefixes: ['/api/products'] }, { workersCache })
    expect(workersCache.calls).toEqual([{ method: 'purge', selector: { pathPrefixes: ['/api/products'] } }])
    expect(report).toMatchObject({ tags: [], pathPrefixes: ['/api/products'], workersCache: { action: 'purge', pathPrefixes: ['/api/products'], calls: 1, ok: true } })
    // Isolate b holds all four in its own L1: the two under /api/products load again, the others are still hits.
    expect(await body(await w.b.send('/api/products/1'))).toBe('/api/products/1 v2')
    expect(await body(await w.b.send('/api/products/2?lang=en'))).toBe('/api/products/2?lang=en v2')
    expect(await body(await w.b.send('/api/products-old/1'))).toBe('/api/products-old/1 v1')
    expect(await body(await w.b.send('/api/other'))).toBe('/api/other v1')
    expect(paths.map((p) => w.calls(p))).toEqual([2, 2, 1, 1])
  })

  it('hard, by URL: that URL only (its query included), and Workers Cache gets its path and query as a prefix', async () => {
    const w = twoIsolates()
    for (const path of paths) await w.a.send(path)
    for (const path of paths) await w.b.send(path)
    w.change()
    const workersCache = recordingWorkersCache()
    const report = await invalidateEverywhere(w.a.cache, { urls: ['https://shop.test/api/products/2?lang=en#top'] }, { workersCache })
    expect(report.urls).toEqual(['https://shop.test/api/products/2?lang=en'])
    expect(workersCache.calls).toEqual([{ method: 'purge', selector: { pathPrefixes: ['/api/products/2?lang=en'] } }])
    expect(await body(await w.b.send('/api/products/2?lang=en'))).toBe('/api/products/2?lang=en v2')
    expect(await body(await w.b.send('/api/products/1'))).toBe('/api/products/1 v1')
    expect(paths.map((p) => w.calls(p))).toEqual([1, 2, 1, 1])
  })

  it('soft: the other isolate answers the old response once while one refresh loads, Workers Cache invalidates', async () => {
    const w = twoIsolates()
    await w.a.send('/api/products/1')
    await w.b.send('/api/products/1')
    w.change()
    const workersCache = recordingWorkersCache()
    await invalidateEverywhere(w.a.cache, { pathPrefixes: ['/api/'] }, { workersCache, mode: 'soft' })
    expect(workersCache.calls).toEqual([{ method: 'invalidate', selector: { pathPrefixes: ['/api/'] } }])
    const stale = await w.b.send('/api/products/1')
    expect(await body(stale)).toBe('/api/products/1 v1')
    expect(stale.headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=-?\d+; detail=L1$/)
    // The refresh ran in that request's waitUntil: the next answer is the new one, with no further origin call.
    expect(await body(await w.b.send('/api/products/1'))).toBe('/api/products/1 v2')
    expect(w.calls('/api/products/1')).toBe(2)
  })

  it('reaches every learned variant of a URL', async () => {
    const w = twoIsolates()
    for (const lang of ['en', 'fr']) {
      await w.a.send('/varies/1', { headers: { 'accept-language': lang } })
      expect((await w.b.send('/varies/1', { headers: { 'accept-language': lang } })).headers.get('cache-status')).toMatch(/^tiercache; hit;/)
    }
    w.change()
    await invalidateEverywhere(w.a.cache, { urls: ['https://shop.test/varies/1'] }, { workersCache: false })
    for (const lang of ['en', 'fr']) expect(await body(await w.b.send('/varies/1', { headers: { 'accept-language': lang } }))).toBe(`/varies/1 v2 ${lang}`)
  })

  it('tags, URLs and prefixes in one call; URL and path tags never reach Cache-Tag', async () => {
    const w = twoIsolates()
    const first = await w.a.send('/api/products/1')
    expect(first.headers.get('cache-tag')).toBe('products')
    const workersCache = recordingWorkersCache()
    await invalidateEverywhere(w.a.cache, { tags: ['products'], urls: ['https://shop.test/api/x'], pathPrefixes: ['/api/y/'] }, { workersCache })
    expect(workersCache.calls).toEqual([
      { method: 'purge', selector: { tags: ['products'] } },
      { method: 'purge', selector: { pathPrefixes: ['/api/y/', '/api/x'] } },
    ])
  })

  it('deep paths: a prefix past 8 slashes reaches them through its ancestor (more, never less)', async () => {
    const w = twoIsolates()
    const deep = '/a/b/c/d/e/f/g/h/i/j'
    const sibling = '/a/b/c/d/e/f/y/z/1'
    const cousin = '/a/b/c/d/e/f/g/z/1'
    await w.a.send(deep)
    await w.a.send(sibling)
    await w.a.send(cousin)
    w.change()
    await invalidateEverywhere(w.a.cache, { pathPrefixes: ['/a/b/c/d/e/f/g/h/i/'] }, { workersCache: false })
    expect(await body(await w.b.send(deep))).toBe(`${deep} v2`)
    expect(await body(await w.b.send(sibling))).toBe(`${sibling} v1`)
    // Under the same 8-slash ancestor: reached too.
    expect(await body(await w.b.send(cousin))).toBe(`${cousin} v2`)
  })

  it('rejects bad URLs and prefixes before touching any layer', async () => {
    const w = twoIsolates()
    const workersCache = recordingWorkersCache()
    await expect(invalidateEverywhere(w.a.cache, { urls: ['/relative'] }, { workersCache })).rejects.toThrow(/target.urls\[0\] must be an absolute URL/)
    await expect(invalidateEverywhere(w.a.cache, { pathPrefixes: ['api/'] }, { workersCache })).rejects.toThrow(RangeError)
    await expect(invalidateEverywhere(w.a.cache, { pathPrefixes: ['/a?b'] }, { workersCache })).rejects.toThrow(/without spaces, query or fragment/)
    await expect(invalidateEverywhere(w.a.cache, { urls: 'https://x.test/' as never }, { workersCache })).rejects.toThrow(TypeError)
    await expect(invalidateEverywhere(w.a.cache, 'tag' as never, { workersCache })).rejects.toThrow(TypeError)
    expect(workersCache.calls).toEqual([])
  })

  it("origin mode too: a response stored by the origin's headers is reached by its URL", async () => {
    const clock = manualClock()
    const cache = createCache({ tiers: [memoryStore()], coordinator: memoryCoordinator(), now: clock.now })
    let version = 1
    const handler = withCache(() => new Response(`v${version}`, { headers: { 'cache-control': 'max-age=600' } }), { cache, now: clock.now, policy: 'origin', urlTags: true })
    const send = async (): Promise<string> => {
      const ctx = createExecutionContext()
      const response = await handler(new Request('https://shop.test/api/a'), {}, ctx)
      await waitOnExecutionContext(ctx)
      return response.text()
    }
    expect(await send()).toBe('v1')
    version = 2
    expect(await send()).toBe('v1')
    await invalidateEverywhere(cache, { urls: ['https://shop.test/api/a'] }, { workersCache: false })
    expect(await send()).toBe('v2')
  })

  it("given a withWorkersCache view (Hono's c.var.cache), Workers Cache is called once, never with tiercache's URL tags", async () => {
    const w = twoIsolates()
    await w.a.send('/api/products/1')
    w.change()
    const workersCache = recordingWorkersCache()
    const view = withWorkersCache(w.a.cache, { ctx: { cache: workersCache } })
    await invalidateEverywhere(view, { tags: ['products'], urls: ['https://shop.test/api/products/1'] }, { ctx: { cache: workersCache } })
    expect(workersCache.calls).toEqual([
      { method: 'purge', selector: { tags: ['products'] } },
      { method: 'purge', selector: { pathPrefixes: ['/api/products/1'] } },
    ])
    expect(await body(await w.b.send('/api/products/1'))).toBe('/api/products/1 v2')
  })

  it('without urlTags, a URL invalidation reaches Workers Cache but not the stored responses (documented)', async () => {
    const w = twoIsolates({ urlTags: false })
    await w.a.send('/api/products/1')
    w.change()
    await invalidateEverywhere(w.a.cache, { urls: ['https://shop.test/api/products/1'] }, { workersCache: false })
    expect(await body(await w.a.send('/api/products/1'))).toBe('/api/products/1 v1')
  })
})

describe('pass-through answers: outward caching headers where the policy would store, none where they must not be', () => {
  function setup(options: Partial<WithCacheOptions> = {}) {
    const clock = manualClock()
    const cache: Cache = createCache({ tiers: [memoryStore()], now: clock.now })
    const routes: Record<string, () => Response> = {
      '/big': () => new Response('x'.repeat(2_000), { headers: { 'cache-control': 'max-age=5', 'content-type': 'text/plain' } }),
      '/session': () => new Response('hi', { headers: { 'set-cookie': 'sid=1' } }),
      '/private': () => new Response('mine', { headers: { 'cache-control': 'private, max-age=60' } }),
    }
    const handler = withCache((request) => (routes[new URL(request.url).pathname] ?? (() => new Response('?')))(), {
      cache,
      now: clock.now,
      maxBodySize: 1_000,
      policy: { ttl: '2m', swr: '30s', tags: ['pages'] },
      ...options,
    })
    return async (path: string, init?: RequestInit): Promise<Response> => {
      const ctx = createExecutionContext()
      const response = await handler(new Request(`https://site.test${path}`, init), {}, ctx)
      await waitOnExecutionContext(ctx)
      return response
    }
  }

  it('a body too large for the tiers is still cacheable outside them: the policy headers of its scope, as a fresh entry', async () => {
    const send = setup()
    const res = await send('/big')
    expect(res.headers.get('cache-status')).toBe('tiercache; fwd=miss; detail=not-stored:too-large')
    expect(res.headers.get('cache-control')).toBe('public, max-age=120, stale-while-revalidate=30')
    expect(res.headers.get('cdn-cache-control')).toBe('max-age=120, stale-while-revalidate=30')
    expect(res.headers.get('cache-tag')).toBe('pages')
    expect(res.headers.get('age')).toBe('0')
    const browserOnly = await setup({ scope: 'browser' })('/big')
    expect(browserOnly.headers.get('cache-control')).toBe('private, max-age=120, stale-while-revalidate=30')
    expect(browserOnly.headers.get('cdn-cache-control')).toBeNull()
    expect((await setup({ scope: 'tiers' })('/big')).headers.get('cache-control')).toBe('no-store')
  })

  it.each([
    ['/session', {}, 'tiercache; fwd=miss; detail=not-stored:set-cookie', null],
    ['/private', {}, 'tiercache; fwd=miss; detail=not-stored:private', 'private, max-age=60'],
    ['/big', { headers: { authorization: 'Bearer t' } }, 'tiercache; fwd=bypass; detail=authorization', 'max-age=5'],
    ['/big', { headers: { cookie: 'sid=1' } }, 'tiercache; fwd=bypass; detail=cookie', 'max-age=5'],
  ] as const)('%s %j: no caching headers of tiercache, the origin\'s own stand', async (path, init, status, cacheControl) => {
    const res = await setup()(path, init)
    expect(res.headers.get('cache-status')).toBe(status)
    expect(res.headers.get('cache-control')).toBe(cacheControl)
    expect(res.headers.get('cdn-cache-control')).toBeNull()
    expect(res.headers.get('cloudflare-cdn-cache-control')).toBeNull()
    expect(res.headers.get('cache-tag')).toBeNull()
  })
})
