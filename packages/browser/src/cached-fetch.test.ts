import { createCache, memoryStore, type Cache, type CacheEvent } from '@tiercache/core'
import { createStore, get as idbGet } from 'idb-keyval'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createCachedFetch, type CachedFetchOptions } from './cached-fetch.js'
import { indexedDbCoordinator } from './indexeddb-coordinator.js'
import { indexedDbStore, type IndexedDbStore } from './indexeddb-store.js'

const START = 1_700_000_000_000
const URL_A = 'https://api.test/a'

interface Seen {
  method: string
  url: string
  headers: Headers
  cache: RequestCache
}

type Handler = (request: Request, n: number) => Response | Promise<Response>

/** A fake origin behind a fake fetch: real Request/Response objects, a manual clock, every request recorded. */
function setup(options: Omit<CachedFetchOptions, 'fetch' | 'now'> & { idb?: boolean } = {}) {
  let t = START
  const clock = { now: () => t, advance: (ms: number) => void (t += ms) }
  const seen: Seen[] = []
  let handler: Handler = () => new Response('default')
  const upstream = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    seen.push({ method: request.method, url: request.url, headers: request.headers, cache: request.cache })
    return handler(request, seen.length)
  })
  const idb = options.idb ? indexedDbStore({ dbName: `fetch-${crypto.randomUUID()}`, now: clock.now }) : undefined
  if (idb) stores.push(idb)
  const events: CacheEvent[] = []
  const cache =
    options.cache ?? createCache({ tiers: idb ? [memoryStore(), idb] : [memoryStore()], now: clock.now, onEvent: (e) => events.push(e) })
  const cachedFetch = createCachedFetch({ ...options, cache, fetch: upstream as typeof fetch, now: clock.now })
  return {
    cachedFetch,
    cache,
    clock,
    seen,
    events,
    upstream,
    idb,
    respond(next: Handler) {
      handler = next
    },
    hits: (url = URL_A) => seen.filter((s) => s.url === url).length,
  }
}

const stores: IndexedDbStore[] = []
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()))
})

const status = (res: Response): string | null => res.headers.get('cache-status')
const text = (body: string, headers: Record<string, string> = {}, init: ResponseInit = {}): Response => new Response(body, { headers, ...init })

describe('createCachedFetch: options', () => {
  it('validates once, naming the option', () => {
    const fetch = (async () => new Response('')) as typeof globalThis.fetch
    expect(() => createCachedFetch({ fetch, maxBodyBytes: 0 })).toThrow(/options\.maxBodyBytes must be from 1 to/)
    expect(() => createCachedFetch({ fetch, retain: 'soon' as never })).toThrow(/options\.retain/)
    expect(() => createCachedFetch({ fetch, cacheName: 'two words' })).toThrow(/cacheName must be an RFC 8941 token/)
    expect(() => createCachedFetch({ fetch: 1 as unknown as typeof globalThis.fetch })).toThrow(/options\.fetch must be a function/)
    expect(() => createCachedFetch({ fetch, cache: {} as Cache })).toThrow(/options\.cache must be a cache from createCache/)
    expect(() => createCachedFetch({ fetch, policy: { ttl: -1 } })).toThrow(/policy\.ttl must not be negative/)
  })
})

describe('createCachedFetch: default cache', () => {
  it('memory + IndexedDB with indexedDbCoordinator: a tag invalidation on the default databases holds after a reload', async () => {
    let t = START
    const now = () => t
    let n = 0
    const upstream = (async () => new Response(`v${++n}`)) as typeof fetch
    const options = { fetch: upstream, now, policy: { ttl: '1h', tags: ['api'] } as const }
    expect(await (await createCachedFetch(options)(URL_A)).text()).toBe('v1')
    // The write to IndexedDB runs in the background; this default cache has no handle to wait with.
    await vi.waitFor(async () => expect(await idbGet(`:fetch:GET ${URL_A}`, createStore('tiercache', 'entries'))).toBeDefined(), { timeout: 10_000 })

    // A reload (a new default cache) is answered by IndexedDB…
    const reloaded = await createCachedFetch(options)(URL_A)
    expect(await reloaded.text()).toBe('v1')
    expect(status(reloaded)).toMatch(/^tiercache; hit; .*detail=indexeddb$/)

    // …until a cache on the same databases invalidates the tag; the next page load does not serve it.
    t += 1_000
    const app = indexedDbCoordinator({ now })
    await createCache({ tiers: [indexedDbStore({ now })], coordinator: app, now }).invalidateTags(['api'])
    await app.close()
    const after = await createCachedFetch(options)(URL_A)
    expect(await after.text()).toBe('v2')
    expect(status(after)).toMatch(/fwd=uri-miss/)
  })
})

describe('createCachedFetch: freshness (RFC 9111 §4.2)', () => {
  it('serves a max-age response from the cache until it goes stale, each answer a fresh readable Response', async () => {
    const f = setup()
    f.respond(() => text('hello', { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }))
    const first = await f.cachedFetch(URL_A)
    expect(status(first)).toBe('tiercache; fwd=uri-miss; fwd-status=200; ttl=60; stored; detail=network')
    expect(await first.text()).toBe('hello')
    f.clock.advance(30_000)
    const [a, b] = await Promise.all([f.cachedFetch(URL_A), f.cachedFetch(URL_A)])
    expect(await a.text()).toBe('hello')
    expect(await b.text()).toBe('hello')
    expect(status(a)).toBe('tiercache; hit; ttl=30; detail=memory')
    expect(a.headers.get('age')).toBe('30')
    expect(a.headers.get('content-type')).toBe('text/plain')
    expect(a.url).toBe(URL_A)
    expect(a.status).toBe(200)
    expect(f.hits()).toBe(1)
    f.clock.advance(30_000)
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
  })

  it('always asks the network with cache: no-store, so the browser cache never answers first', async () => {
    const f = setup()
    f.respond(() => text('x', { 'cache-control': 'max-age=60' }))
    await f.cachedFetch(URL_A)
    expect(f.seen[0]?.cache).toBe('no-store')
  })

  it('subtracts the age the response already had (Age header, §4.2.3)', async () => {
    const f = setup()
    f.respond(() => text('aged', { 'cache-control': 'max-age=60', age: '50' }))
    await f.cachedFetch(URL_A)
    f.clock.advance(9_000)
    const hit = await f.cachedFetch(URL_A)
    expect(status(hit)).toMatch(/; hit; ttl=1;/)
    expect(hit.headers.get('age')).toBe('59')
    f.clock.advance(1_000)
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
  })

  it('counts apparent age from the Date header (§4.2.3)', async () => {
    const f = setup()
    // Generated 20 s before it arrived.
    f.respond(() => text('dated', { 'cache-control': 'max-age=60', date: new Date(f.clock.now() - 20_000).toUTCString() }))
    await f.cachedFetch(URL_A)
    f.clock.advance(39_000)
    expect(status(await f.cachedFetch(URL_A))).toMatch(/; hit; ttl=1;/)
    f.clock.advance(1_000)
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
  })

  it('uses Expires minus Date when there is no max-age (§4.2.1), and max-age over Expires', async () => {
    const f = setup()
    const date = new Date(f.clock.now()).toUTCString()
    f.respond((req) =>
      req.url.endsWith('/a')
        ? text('e', { date, expires: new Date(f.clock.now() + 30_000).toUTCString() })
        : text('m', { date, expires: new Date(f.clock.now() + 30_000).toUTCString(), 'cache-control': 'max-age=5' }),
    )
    await f.cachedFetch(URL_A)
    await f.cachedFetch('https://api.test/m')
    f.clock.advance(10_000)
    await f.cachedFetch(URL_A)
    await f.cachedFetch('https://api.test/m')
    expect(f.hits()).toBe(1)
    expect(f.hits('https://api.test/m')).toBe(2)
  })

  it('treats an invalid Expires ("0") as already expired (§5.3)', async () => {
    const f = setup({ policy: { ttl: '1h' } })
    f.respond(() => text('x', { expires: '0' }))
    await f.cachedFetch(URL_A)
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
  })

  it('ignores s-maxage: it is for shared caches (§5.2.2.10)', async () => {
    const f = setup()
    f.respond(() => text('x', { 'cache-control': 'max-age=1, s-maxage=600' }))
    await f.cachedFetch(URL_A)
    f.clock.advance(2_000)
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
  })

  it('caches a private response: a browser cache is a private cache', async () => {
    const f = setup()
    f.respond(() => text('mine', { 'cache-control': 'private, max-age=60' }))
    await f.cachedFetch(URL_A)
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(1)
  })

  it('falls back to the policy only when the response says nothing', async () => {
    const f = setup({ policy: { ttl: '30s' } })
    f.respond((req) => (req.url.endsWith('/a') ? text('silent') : text('says', { 'cache-control': 'max-age=5' })))
    await f.cachedFetch(URL_A)
    await f.cachedFetch('https://api.test/b')
    f.clock.advance(10_000)
    await f.cachedFetch(URL_A)
    await f.cachedFetch('https://api.test/b')
    expect(f.hits()).toBe(1)
    expect(f.hits('https://api.test/b')).toBe(2)
    f.clock.advance(20_000)
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
  })

  it('without a policy, stores nothing the response gives no lifetime or validator for', async () => {
    const f = setup()
    f.respond(() => text('plain'))
    await f.cachedFetch(URL_A)
    const second = await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
    expect(status(second)).toBe('tiercache; fwd=uri-miss; fwd-status=200; detail=network')
  })

  it('per-request policy: a function returning undefined sends the request past the cache', async () => {
    const f = setup({ policy: (req) => (req.url.includes('/live') ? undefined : { ttl: '1m', tags: ['api'] }) })
    f.respond(() => text('x'))
    await f.cachedFetch('https://api.test/live')
    const live = await f.cachedFetch('https://api.test/live')
    expect(status(live)).toBeNull()
    await f.cachedFetch(URL_A)
    await f.cachedFetch(URL_A)
    expect(f.hits('https://api.test/live')).toBe(2)
    expect(f.hits()).toBe(1)
    // The policy's tags go on stored responses.
    await f.cache.invalidateTags(['api'])
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
  })
})

describe('createCachedFetch: no-store and no-cache (§5.2.2.4, §5.2.2.5)', () => {
  it('never stores a no-store response, and removes the stored one it replaces', async () => {
    const f = setup()
    f.respond((_, n) => (n === 1 ? text('v1', { 'cache-control': 'max-age=1', etag: '"1"' }) : text('secret', { 'cache-control': 'no-store' })))
    await f.cachedFetch(URL_A)
    f.clock.advance(2_000)
    const res = await f.cachedFetch(URL_A)
    expect(await res.text()).toBe('secret')
    expect(status(res)).toBe('tiercache; fwd=stale; fwd-status=200; detail=network')
    expect(await f.cache.get(`fetch:GET ${URL_A}`)).toBeUndefined()
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(3)
    expect(f.seen[2]?.headers.has('if-none-match')).toBe(false)
  })

  it('stores a no-cache response but revalidates it on every use', async () => {
    const f = setup()
    f.respond((req) =>
      req.headers.get('if-none-match') === '"v1"'
        ? new Response(null, { status: 304, headers: { etag: '"v1"', 'cache-control': 'no-cache' } })
        : text('body', { etag: '"v1"', 'cache-control': 'no-cache' }),
    )
    expect(await (await f.cachedFetch(URL_A)).text()).toBe('body')
    const again = await f.cachedFetch(URL_A)
    expect(await again.text()).toBe('body')
    expect(again.status).toBe(200)
    expect(status(again)).toMatch(/^tiercache; fwd=stale; fwd-status=304; ttl=0; stored;/)
    expect(f.seen.map((s) => s.headers.get('if-none-match'))).toEqual([null, '"v1"'])
  })
})

describe('createCachedFetch: revalidation (§4.3)', () => {
  it('sends If-None-Match and If-Modified-Since; a 304 refreshes the stored headers and lifetime (§4.3.4)', async () => {
    const f = setup()
    f.respond((req, n) => {
      if (n === 1) return text('payload', { 'cache-control': 'max-age=10', etag: 'W/"7"', 'last-modified': 'Tue, 14 Nov 2023 22:13:20 GMT', 'x-version': '1' })
      expect(req.headers.get('if-none-match')).toBe('W/"7"')
      expect(req.headers.get('if-modified-since')).toBe('Tue, 14 Nov 2023 22:13:20 GMT')
      return new Response(null, { status: 304, headers: { 'cache-control': 'max-age=100', etag: 'W/"7"', 'x-version': '2', 'content-length': '0' } })
    })
    await f.cachedFetch(URL_A)
    f.clock.advance(11_000)
    const revalidated = await f.cachedFetch(URL_A)
    expect(revalidated.status).toBe(200)
    expect(await revalidated.text()).toBe('payload')
    expect(revalidated.headers.get('x-version')).toBe('2')
    expect(revalidated.headers.get('content-length')).toBe('7')
    expect(status(revalidated)).toBe('tiercache; fwd=stale; fwd-status=304; ttl=100; stored; detail=network')
    f.clock.advance(90_000)
    const hit = await f.cachedFetch(URL_A)
    expect(status(hit)).toBe('tiercache; hit; ttl=10; detail=memory')
    expect(hit.headers.get('x-version')).toBe('2')
    expect(f.hits()).toBe(2)
  })

  it("takes the 304's directives as they are now: a no-cache dropped by the 304 is dropped", async () => {
    const f = setup()
    f.respond((_, n) => {
      if (n === 1) return text('x', { 'cache-control': 'no-cache', etag: '"1"' })
      if (n === 2) return new Response(null, { status: 304, headers: { 'cache-control': 'max-age=60', etag: '"1"' } })
      throw new TypeError('Failed to fetch')
    })
    await f.cachedFetch(URL_A)
    await f.cachedFetch(URL_A) // revalidated: now max-age=60, no longer no-cache
    expect(status(await f.cachedFetch(URL_A))).toMatch(/; hit;/)
    f.clock.advance(61_000)
    // Offline: no longer forbidden from answering stale (it was, while the stored fields said no-cache).
    const offline = await f.cachedFetch(URL_A)
    expect(status(offline)).toMatch(/detail=stale-if-error/)
  })

  it('replaces the stored response when revalidation gets a 200', async () => {
    const f = setup()
    f.respond((_, n) => text(`v${n}`, { 'cache-control': 'max-age=10', etag: `"${n}"` }))
    await f.cachedFetch(URL_A)
    f.clock.advance(11_000)
    expect(await (await f.cachedFetch(URL_A)).text()).toBe('v2')
    expect(await (await f.cachedFetch(URL_A)).text()).toBe('v2')
    expect(f.seen[1]?.headers.get('if-none-match')).toBe('"1"')
    expect(f.hits()).toBe(2)
  })

  it('keeps a stale response only `retain` long for revalidation', async () => {
    const f = setup({ retain: '1m' })
    f.respond(() => text('x', { 'cache-control': 'max-age=10', etag: '"1"' }))
    await f.cachedFetch(URL_A)
    f.clock.advance(10_000 + 60_000 + 1)
    await f.cachedFetch(URL_A)
    expect(f.seen[1]?.headers.has('if-none-match')).toBe(false)
  })

  it('names the tier that answered in each of several concurrent requests for one URL (core\'s read status)', async () => {
    const f = setup({ idb: true })
    f.respond(() => text('hello', { 'cache-control': 'max-age=60' }))
    await f.cachedFetch(URL_A)
    await f.cache.idle()
    const fromMemory = await Promise.all([f.cachedFetch(URL_A), f.cachedFetch(URL_A), f.cachedFetch(URL_A)])
    expect(fromMemory.map(status)).toEqual(Array(3).fill('tiercache; hit; ttl=60; detail=memory'))
    const again = createCachedFetch({ cache: createCache({ tiers: [f.idb as IndexedDbStore], now: f.clock.now }), fetch: f.upstream as typeof fetch, now: f.clock.now })
    const fromDisk = await Promise.all([again(URL_A), again(URL_A)])
    expect(fromDisk.map(status)).toEqual(Array(2).fill('tiercache; hit; ttl=60; detail=indexeddb'))
    expect(f.hits()).toBe(1)
  })

  it('stale-while-revalidate answers stale at once and revalidates in the background (RFC 5861 §3)', async () => {
    const f = setup()
    f.respond((_, n) => text(`v${n}`, { 'cache-control': 'max-age=10, stale-while-revalidate=30', etag: `"${n}"` }))
    await f.cachedFetch(URL_A)
    f.clock.advance(15_000)
    const stale = await f.cachedFetch(URL_A)
    expect(await stale.text()).toBe('v1')
    expect(status(stale)).toBe('tiercache; hit; ttl=-5; detail=memory')
    await f.cache.idle()
    expect(f.hits()).toBe(2)
    expect(f.seen[1]?.headers.get('if-none-match')).toBe('"1"')
    const fresh = await f.cachedFetch(URL_A)
    expect(await fresh.text()).toBe('v2')
    expect(status(fresh)).toMatch(/; hit; ttl=10;/)
    // Past the swr window the revalidation is in the foreground.
    f.clock.advance(45_000)
    expect(await (await f.cachedFetch(URL_A)).text()).toBe('v3')
  })

  it("the background revalidation is the cache's background work: idle() and its waitUntil wait for the answer", async () => {
    const handed: Promise<unknown>[] = []
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => (release = resolve))
    const f = setup()
    const cache = f.cache.withContext({ waitUntil: (p) => void handed.push(p) })
    const cachedFetch = createCachedFetch({ cache, fetch: f.upstream as typeof fetch, now: f.clock.now })
    f.respond(async (_, n) => {
      if (n === 2) await gate // the revalidation's answer comes late
      return text(`v${n}`, { 'cache-control': 'max-age=10, stale-while-revalidate=30' })
    })
    await cachedFetch(URL_A)
    f.clock.advance(15_000)
    const before = handed.length
    expect(await (await cachedFetch(URL_A)).text()).toBe('v1')
    let idle = false
    const settled = cache.idle().then(() => (idle = true))
    await vi.waitFor(() => expect(f.hits()).toBe(2), { timeout: 10_000 })
    expect(idle).toBe(false)
    expect(handed.length).toBeGreaterThan(before)
    release()
    await settled
    const fresh = await cachedFetch(URL_A)
    expect(await fresh.text()).toBe('v2')
    expect(status(fresh)).toMatch(/; hit; ttl=10;/)
  })

  it('must-revalidate closes the stale-while-revalidate window (§5.2.2.2)', async () => {
    const f = setup()
    f.respond((_, n) => text(`v${n}`, { 'cache-control': 'max-age=10, stale-while-revalidate=30, must-revalidate' }))
    await f.cachedFetch(URL_A)
    f.clock.advance(15_000)
    expect(await (await f.cachedFetch(URL_A)).text()).toBe('v2')
  })
})

describe('createCachedFetch: errors and offline', () => {
  it('answers a 5xx with the stored response within stale-if-error (RFC 5861 §4), else forwards the 5xx', async () => {
    const f = setup()
    f.respond((_, n) => (n === 1 ? text('good', { 'cache-control': 'max-age=10, stale-if-error=60' }) : text('down', {}, { status: 503 })))
    await f.cachedFetch(URL_A)
    f.clock.advance(30_000)
    const saved = await f.cachedFetch(URL_A)
    expect(saved.status).toBe(200)
    expect(await saved.text()).toBe('good')
    expect(status(saved)).toBe('tiercache; fwd=stale; fwd-status=503; ttl=-20; detail=stale-if-error')
    expect(saved.headers.get('age')).toBe('30')
    f.clock.advance(41_000)
    const failed = await f.cachedFetch(URL_A)
    expect(failed.status).toBe(503)
    expect(await failed.text()).toBe('down')
  })

  it('forwards other 5xx (RFC 5861 covers 500, 502, 503, 504) and keeps the stored response', async () => {
    const f = setup()
    f.respond((_, n) => (n === 1 ? text('good', { 'cache-control': 'max-age=10, stale-if-error=60' }) : n === 2 ? text('nope', {}, { status: 501 }) : text('down', {}, { status: 503 })))
    await f.cachedFetch(URL_A)
    f.clock.advance(20_000)
    expect((await f.cachedFetch(URL_A)).status).toBe(501)
    const saved = await f.cachedFetch(URL_A)
    expect(saved.status).toBe(200)
    expect(await saved.text()).toBe('good')
  })

  it('forwards a 5xx when the response allowed no stale-if-error', async () => {
    const f = setup()
    f.respond((_, n) => (n === 1 ? text('good', { 'cache-control': 'max-age=10', etag: '"1"' }) : text('broken', {}, { status: 500 })))
    await f.cachedFetch(URL_A)
    f.clock.advance(11_000)
    const res = await f.cachedFetch(URL_A)
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('broken')
    expect(status(res)).toBe('tiercache; fwd=stale; fwd-status=500; detail=network')
  })

  it('answers from storage while offline, unless the response said no-cache or must-revalidate (§4.2.4)', async () => {
    const f = setup()
    f.respond((req) => {
      if (f.hits(req.url) > 1) throw new TypeError('Failed to fetch')
      const cc = { '/ok': 'max-age=10', '/nc': 'no-cache', '/mr': 'max-age=10, must-revalidate' }[new URL(req.url).pathname] ?? ''
      return text('stored', { 'cache-control': cc, etag: '"1"' })
    })
    for (const path of ['/ok', '/nc', '/mr']) await f.cachedFetch(`https://api.test${path}`)
    f.clock.advance(60_000)
    const offline = await f.cachedFetch('https://api.test/ok')
    expect(await offline.text()).toBe('stored')
    expect(status(offline)).toBe('tiercache; fwd=stale; ttl=-50; detail=stale-if-error')
    await expect(f.cachedFetch('https://api.test/nc')).rejects.toThrow(TypeError)
    await expect(f.cachedFetch('https://api.test/mr')).rejects.toThrow('Failed to fetch')
  })

  it('rejects like fetch when offline with nothing stored', async () => {
    const f = setup()
    f.respond(() => {
      throw new TypeError('Failed to fetch')
    })
    await expect(f.cachedFetch(URL_A)).rejects.toThrow(TypeError)
  })
})

describe('createCachedFetch: Vary (§4.1)', () => {
  const byLanguage: Handler = (req) =>
    text(`hello in ${req.headers.get('accept-language')}`, { 'cache-control': 'max-age=60', vary: 'Accept-Language' })

  it('keeps one stored response per value of the headers Vary names', async () => {
    const f = setup()
    f.respond(byLanguage)
    const en = { headers: { 'accept-language': 'en' } }
    const de = { headers: { 'accept-language': 'de' } }
    expect(await (await f.cachedFetch(URL_A, en)).text()).toBe('hello in en')
    const deMiss = await f.cachedFetch(URL_A, de)
    expect(await deMiss.text()).toBe('hello in de')
    expect(status(deMiss)).toMatch(/fwd=vary-miss/)
    expect(await (await f.cachedFetch(URL_A, en)).text()).toBe('hello in en')
    const deHit = await f.cachedFetch(URL_A, { headers: { 'Accept-Language': '  de ' } })
    expect(await deHit.text()).toBe('hello in de')
    expect(status(deHit)).toMatch(/; hit;/)
    expect(f.hits()).toBe(2)
  })

  it('collapsed requests with different Vary values each get their own variant', async () => {
    const f = setup()
    f.respond(byLanguage)
    const [en, fr] = await Promise.all([
      f.cachedFetch(URL_A, { headers: { 'accept-language': 'en' } }),
      f.cachedFetch(URL_A, { headers: { 'accept-language': 'fr' } }),
    ])
    expect(await en.text()).toBe('hello in en')
    expect(await fr.text()).toBe('hello in fr')
  })

  it('never stores Vary: * or Vary: Cookie', async () => {
    const f = setup()
    f.respond((req) => text('x', { 'cache-control': 'max-age=60', vary: req.url.endsWith('/a') ? '*' : 'Cookie' }))
    for (let i = 0; i < 2; i++) {
      await f.cachedFetch(URL_A)
      await f.cachedFetch('https://api.test/c')
    }
    expect(f.hits()).toBe(2)
    expect(f.hits('https://api.test/c')).toBe(2)
  })

  it('an unsafe request drops every variant of the URL (§4.4)', async () => {
    const f = setup()
    f.respond((req) => (req.method === 'POST' ? text('ok', {}, { status: 201 }) : byLanguage(req, 0)))
    await f.cachedFetch(URL_A, { headers: { 'accept-language': 'en' } })
    await f.cachedFetch(URL_A, { headers: { 'accept-language': 'de' } })
    await f.cachedFetch(URL_A, { method: 'POST', body: 'x' })
    await f.cachedFetch(URL_A, { headers: { 'accept-language': 'en' } })
    await f.cachedFetch(URL_A, { headers: { 'accept-language': 'de' } })
    expect(f.seen.filter((s) => s.method === 'GET')).toHaveLength(4)
  })
})

describe('createCachedFetch: requests', () => {
  it('collapses concurrent identical requests into one network request', async () => {
    const f = setup()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    f.respond(async () => {
      await gate
      return text('once', { 'cache-control': 'max-age=60' })
    })
    const pending = Array.from({ length: 5 }, () => f.cachedFetch(URL_A))
    release()
    const responses = await Promise.all(pending)
    expect(await Promise.all(responses.map((r) => r.text()))).toEqual(Array(5).fill('once'))
    expect(f.hits()).toBe(1)
    expect(responses.filter((r) => status(r)?.includes('collapsed'))).toHaveLength(4)
  })

  it('collapsed requests whose shared answer was not storable go to the network themselves', async () => {
    const f = setup()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    f.respond(async (_, n) => {
      await gate
      return text(`stream ${n}`, { 'cache-control': 'no-store' })
    })
    const pending = [f.cachedFetch(URL_A), f.cachedFetch(URL_A)]
    release()
    const bodies = await Promise.all((await Promise.all(pending)).map((r) => r.text()))
    expect(bodies.sort()).toEqual(['stream 1', 'stream 2'])
  })

  it('passes other methods through and invalidates the URL after a non-error unsafe answer (§4.4)', async () => {
    const f = setup()
    f.respond((req) => (req.method === 'GET' ? text('list', { 'cache-control': 'max-age=60' }) : new Response(null, { status: 204, headers: { location: '/b' } })))
    await f.cachedFetch(URL_A)
    await f.cachedFetch('https://api.test/b')
    const put = await f.cachedFetch(URL_A, { method: 'PUT', body: '{}' })
    expect(put.status).toBe(204)
    expect(status(put)).toBeNull()
    await f.cachedFetch(URL_A)
    await f.cachedFetch('https://api.test/b')
    expect(f.hits()).toBe(3)
    expect(f.hits('https://api.test/b')).toBe(2)
  })

  it('keeps the stored response after an unsafe request that failed', async () => {
    const f = setup()
    f.respond((req) => (req.method === 'GET' ? text('list', { 'cache-control': 'max-age=60' }) : text('no', {}, { status: 409 })))
    await f.cachedFetch(URL_A)
    await f.cachedFetch(new Request(URL_A, { method: 'DELETE' }))
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
  })

  it('answers HEAD from a fresh stored GET, and sends it on otherwise', async () => {
    const f = setup()
    f.respond((req) => text(req.method === 'HEAD' ? '' : 'body', { 'cache-control': 'max-age=60', 'x-kind': req.method }))
    const missed = await f.cachedFetch(URL_A, { method: 'HEAD' })
    expect(missed.headers.get('x-kind')).toBe('HEAD')
    await f.cachedFetch(URL_A)
    const head = await f.cachedFetch(URL_A, { method: 'HEAD' })
    expect(head.headers.get('x-kind')).toBe('GET')
    expect(head.headers.get('content-length')).toBe('4')
    expect(await head.text()).toBe('')
    expect(f.seen.map((s) => s.method)).toEqual(['HEAD', 'GET'])
  })

  it('follows the request cache mode: no-store bypasses, reload refetches, no-cache revalidates', async () => {
    const f = setup()
    f.respond((req, n) =>
      req.headers.get('if-none-match') === '"1"'
        ? new Response(null, { status: 304, headers: { etag: '"1"', 'cache-control': 'max-age=60' } })
        : text(`v${n}`, { 'cache-control': 'max-age=60', etag: '"1"' }),
    )
    await f.cachedFetch(URL_A)
    const bypass = await f.cachedFetch(URL_A, { cache: 'no-store' })
    expect(status(bypass)).toBeNull()
    const reloaded = await f.cachedFetch(URL_A, { cache: 'reload' })
    expect(await reloaded.text()).toBe('v3')
    expect(f.seen[2]?.headers.has('if-none-match')).toBe(false)
    const revalidated = await f.cachedFetch(URL_A, { cache: 'no-cache' })
    expect(await revalidated.text()).toBe('v3')
    expect(f.seen[3]?.headers.get('if-none-match')).toBe('"1"')
    const requestDirective = await f.cachedFetch(URL_A, { headers: { 'cache-control': 'max-age=0' } })
    expect(status(requestDirective)).toMatch(/fwd=request; fwd-status=304/)
    expect(await (await f.cachedFetch(URL_A)).text()).toBe('v3')
    expect(f.hits()).toBe(5)
  })

  it("leaves the caller's own conditional and range requests alone", async () => {
    const f = setup()
    f.respond(() => new Response(null, { status: 304 }))
    const res = await f.cachedFetch(URL_A, { headers: { 'if-none-match': '"x"' } })
    expect(res.status).toBe(304)
    expect(status(res)).toBeNull()
  })

  it('rejects an aborted caller at once while the shared request goes on for the others', async () => {
    const f = setup()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    f.respond(async () => {
      await gate
      return text('late', { 'cache-control': 'max-age=60' })
    })
    const controller = new AbortController()
    const aborted = f.cachedFetch(URL_A, { signal: controller.signal })
    const other = f.cachedFetch(URL_A)
    controller.abort()
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' })
    release()
    expect(await (await other).text()).toBe('late')
  })

  it('round-trips binary bodies byte for byte', async () => {
    const f = setup()
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7919) % 256)
    f.respond(() => new Response(bytes, { headers: { 'cache-control': 'max-age=60', 'content-type': 'application/octet-stream' } }))
    await f.cachedFetch(URL_A)
    const hit = await f.cachedFetch(URL_A)
    const got = new Uint8Array(await hit.arrayBuffer())
    expect(got.length).toBe(bytes.length)
    expect(got.every((b, i) => b === bytes[i])).toBe(true) // (toEqual on 70k elements is slow)
    expect(hit.headers.get('content-length')).toBe('70000')
  })

  it('passes bodies over maxBodyBytes through without storing them', async () => {
    const f = setup({ maxBodyBytes: 10 })
    f.respond(() => text('x'.repeat(11), { 'cache-control': 'max-age=60' }))
    expect(await (await f.cachedFetch(URL_A)).text()).toBe('x'.repeat(11))
    await f.cachedFetch(URL_A)
    expect(f.hits()).toBe(2)
  })

  it('shortens over-long keys with a hash and still tells URLs apart', async () => {
    const f = setup()
    f.respond((req) => text(req.url.slice(-1), { 'cache-control': 'max-age=60' }))
    const long = `https://api.test/${'p'.repeat(1_100)}`
    expect(await (await f.cachedFetch(`${long}1`)).text()).toBe('1')
    expect(await (await f.cachedFetch(`${long}2`)).text()).toBe('2')
    expect(await (await f.cachedFetch(`${long}1`)).text()).toBe('1')
    expect(f.seen).toHaveLength(2)
  })

  it('ignores the URL fragment', async () => {
    const f = setup()
    f.respond(() => text('x', { 'cache-control': 'max-age=60' }))
    await f.cachedFetch(`${URL_A}#one`)
    await f.cachedFetch(`${URL_A}#two`)
    expect(f.seen).toHaveLength(1)
  })

  it('reports the tier that answered, IndexedDB included, and survives a new memory tier (a reload)', async () => {
    const f = setup({ idb: true })
    f.respond(() => text('persisted', { 'cache-control': 'max-age=60' }))
    await f.cachedFetch(URL_A)
    await f.cache.idle()
    const reloaded = createCache({ tiers: [memoryStore(), f.idb as IndexedDbStore], now: f.clock.now })
    const again = createCachedFetch({ cache: reloaded, fetch: f.upstream as typeof fetch, now: f.clock.now })
    const fromDisk = await again(URL_A)
    expect(await fromDisk.text()).toBe('persisted')
    expect(status(fromDisk)).toBe('tiercache; hit; ttl=60; detail=indexeddb')
    await reloaded.idle()
    expect(status(await again(URL_A))).toBe('tiercache; hit; ttl=60; detail=memory')
    expect(f.hits()).toBe(1)
  })

  it('appends its member to a Cache-Status the origin already sent', async () => {
    const f = setup()
    f.respond(() => text('x', { 'cache-control': 'max-age=60', 'cache-status': 'edge; hit' }))
    await f.cachedFetch(URL_A)
    expect(status(await f.cachedFetch(URL_A))).toBe('edge; hit, tiercache; hit; ttl=60; detail=memory')
  })
})
