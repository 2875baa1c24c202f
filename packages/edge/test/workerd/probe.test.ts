// Harness probes: facts about this workerd (miniflare 4.20260426.0 via
// @cloudflare/vitest-pool-workers 0.15.1) that the edge stores rely on.
// Each fact is an assertion; test/HARNESS.md summarises the results.
import { createExecutionContext, reset, SELF, waitOnExecutionContext } from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { describe, expect, inject, it } from 'vitest'
import probeWorker from '../fixtures/probe-worker'

const BASE = 'https://tiercache.internal'
let seq = 0
/** A fresh synthetic cache key URL per call, so tests never see each other's entries. */
function key(label: string): string {
  return `${BASE}/ns/${label}-${Date.now()}-${seq++}`
}
function body(text: string, headers: Record<string, string>, status = 200): Response {
  return new Response(text, { status, headers })
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

// (h) module-scope state: incremented by one test, read by the next.
let moduleCounter = 0

describe('(a) Cache API round trip', () => {
  it('caches.default put/match with public, max-age=60', async () => {
    const url = key('a-default')
    await caches.default.put(url, body('hello', { 'cache-control': 'public, max-age=60', 'x-meta': 'm1' }))
    const hit = await caches.default.match(url)
    expect(hit).toBeDefined()
    expect(await hit!.text()).toBe('hello')
    expect(hit!.headers.get('x-meta')).toBe('m1')
    expect(hit!.headers.get('cache-control')).toBe('public, max-age=60')
  })

  it('caches.open(name) put/match with s-maxage=60 alone', async () => {
    const cache = await caches.open('tiercache-a')
    const url = key('a-open')
    await cache.put(url, body('named', { 'cache-control': 's-maxage=60' }))
    const hit = await cache.match(url)
    expect(await hit?.text()).toBe('named')
  })

  it('match accepts a Request as well as a URL string, and the key ignores request headers', async () => {
    const url = key('a-request')
    await caches.default.put(new Request(url), body('r', { 'cache-control': 'max-age=60' }))
    const hit = await caches.default.match(new Request(url, { headers: { 'x-anything': '1' } }))
    expect(await hit?.text()).toBe('r')
  })

  it('put rejects non-GET requests (TypeError) and match of a HEAD is a miss without ignoreMethod', async () => {
    const url = key('a-method')
    await expect(caches.default.put(new Request(url, { method: 'POST' }), body('x', { 'cache-control': 'max-age=60' }))).rejects.toThrow()
    await caches.default.put(url, body('g', { 'cache-control': 'max-age=60' }))
    expect(await caches.default.match(new Request(url, { method: 'HEAD' }))).toBeUndefined()
    const viaIgnore = await caches.default.match(new Request(url, { method: 'HEAD' }), { ignoreMethod: true })
    expect(viaIgnore).toBeDefined()
  })

  it('a cached hit reports cf-cache-status: HIT and keeps the stored body for a binary payload', async () => {
    const url = key('a-binary')
    const bytes = new Uint8Array([0, 1, 2, 250, 255])
    await caches.default.put(url, new Response(bytes, { headers: { 'cache-control': 'max-age=60', 'content-type': 'application/octet-stream' } }))
    const hit = await caches.default.match(url)
    expect(new Uint8Array(await hit!.arrayBuffer())).toEqual(bytes)
    // Record (not assert) the extra headers workerd adds on a hit.
    console.log('[probe a] hit headers:', JSON.stringify([...hit!.headers]))
  })
  it('Vary does not select on match; If-None-Match on match yields a 304', async () => {
    const url = key('a-vary')
    await caches.default.put(
      new Request(url, { headers: { 'accept-language': 'en' } }),
      body('en', { 'cache-control': 'max-age=60', vary: 'accept-language', etag: '"v1"' }),
    )
    const sameLang = await caches.default.match(new Request(url, { headers: { 'accept-language': 'en' } }))
    const otherLang = await caches.default.match(new Request(url, { headers: { 'accept-language': 'fr' } }))
    const bare = await caches.default.match(url)
    const conditional = await caches.default.match(new Request(url, { headers: { 'accept-language': 'en', 'if-none-match': '"v1"' } }))
    console.log(
      `[probe a] Vary: same value ${sameLang?.status ?? 'MISS'}, other value ${otherLang?.status ?? 'MISS'}, ` +
        `no header ${bare?.status ?? 'MISS'}, If-None-Match ${conditional?.status ?? 'MISS'}`,
    )
    expect(sameLang?.status).toBe(200)
    // Vary is stored but not used to select: a different or missing value still hits.
    expect(otherLang?.status).toBe(200)
    expect(bare?.status).toBe(200)
    // A conditional request is answered 304 with no body: a store must match on a clean URL.
    expect(conditional?.status).toBe(304)
    for (const r of [sameLang, otherLang, bare, conditional]) await r?.body?.cancel()
  })
})

describe('(b) which header shapes are stored (put always resolves)', () => {
  const nothing: Array<[string, Record<string, string>]> = [
    ['no Cache-Control at all', {}],
    ['no-store', { 'cache-control': 'public, max-age=60, no-store' }],
    ['private', { 'cache-control': 'private, max-age=60' }],
    ['public alone', { 'cache-control': 'public' }],
    ['no-cache', { 'cache-control': 'no-cache, max-age=60' }],
    ['s-maxage=0', { 'cache-control': 's-maxage=0' }],
    ['max-age=0', { 'cache-control': 'max-age=0' }],
    ['Set-Cookie', { 'cache-control': 'public, max-age=60', 'set-cookie': 'a=b' }],
    ['CDN-Cache-Control only (workerd reads Cache-Control, not CDN-Cache-Control)', { 'cdn-cache-control': 'max-age=60' }],
  ]
  for (const [label, headers] of nothing) {
    it(`stores nothing: ${label}`, async () => {
      const url = key('b')
      await expect(caches.default.put(url, body('x', headers))).resolves.toBeUndefined()
      expect(await caches.default.match(url)).toBeUndefined()
    })
  }

  const stored: Array<[string, Record<string, string>]> = [
    ['max-age=60 without public', { 'cache-control': 'max-age=60' }],
    ['s-maxage=60 wins over max-age=0', { 'cache-control': 'max-age=0, s-maxage=60' }],
    ['Set-Cookie with private=Set-Cookie', { 'cache-control': 'public, max-age=60, private=Set-Cookie', 'set-cookie': 'a=b' }],
    ['Expires in the future, no Cache-Control', { expires: new Date(Date.now() + 60_000).toUTCString() }],
    ['stale-while-revalidate extension next to max-age', { 'cache-control': 'max-age=60, stale-while-revalidate=30' }],
  ]
  for (const [label, headers] of stored) {
    it(`stores: ${label}`, async () => {
      const url = key('b-stored')
      await caches.default.put(url, body('y', headers))
      const hit = await caches.default.match(url)
      expect(hit, label).toBeDefined()
      await hit?.body?.cancel()
    })
  }

  it('Set-Cookie with private=Set-Cookie: stored, and the hit has the cookie stripped', async () => {
    const url = key('b-cookie')
    await caches.default.put(url, body('y', { 'cache-control': 'public, max-age=60, private=Set-Cookie', 'set-cookie': 'a=b' }))
    const hit = await caches.default.match(url)
    expect(hit).toBeDefined()
    expect(hit!.headers.get('set-cookie')).toBeNull()
    await hit!.body?.cancel()
  })

  it('throws on Vary: * and on a 206 response', async () => {
    await expect(caches.default.put(key('b-vary'), body('v', { 'cache-control': 'max-age=60', vary: '*' }))).rejects.toThrow()
    await expect(
      caches.default.put(key('b-206'), body('p', { 'cache-control': 'max-age=60', 'content-range': 'bytes 0-0/10' }, 206)),
    ).rejects.toThrow()
  })

  it('a non-200 status with max-age is stored (404 here), so negative entries may use the Cache API', async () => {
    const url = key('b-404')
    await caches.default.put(url, body('nf', { 'cache-control': 'max-age=60' }, 404))
    const hit = await caches.default.match(url)
    console.log('[probe b] 404 stored:', hit ? `yes (status ${hit.status})` : 'no')
    expect(hit?.status).toBe(404)
  })
})

describe('(c) expiry follows the real clock', () => {
  // The only test here that waits on the real clock: the Cache API takes no clock.
  it('max-age=1 is a hit at once and a miss after ~1.2 s', async () => {
    // "At once" is a put and match that took under 300 ms together: a stall near the 1 s lifetime on a loaded
    // machine is tried again with a fresh key (up to 5 times), instead of failing the hit.
    let url = ''
    let quick = 0
    for (let attempt = 0; attempt < 5 && quick === 0; attempt++) {
      url = key('c-expiry')
      const started = Date.now()
      await caches.default.put(url, body('short', { 'cache-control': 'public, max-age=1' }))
      const first = await caches.default.match(url)
      if (Date.now() - started >= 300) continue
      quick++
      expect(await first?.text()).toBe('short')
    }
    expect(quick, 'no put and match took under 300 ms in 5 tries').toBe(1)
    const t0 = Date.now()
    await sleep(1200)
    const later = await caches.default.match(url)
    console.log(`[probe c] after ${Date.now() - t0} ms: ${later ? 'HIT' : 'MISS'}`)
    expect(later).toBeUndefined()
  })
})

describe('(d) delete', () => {
  it('cache.delete returns true for a stored entry, then match misses; false for an absent one', async () => {
    const url = key('d')
    await caches.default.put(url, body('del', { 'cache-control': 'max-age=60' }))
    expect(await caches.default.delete(url)).toBe(true)
    expect(await caches.default.match(url)).toBeUndefined()
    expect(await caches.default.delete(url)).toBe(false)
  })
})

describe('(e) createExecutionContext / waitOnExecutionContext', () => {
  it('waits for ctx.waitUntil work, including waitUntil registered from inside waitUntil work', async () => {
    const ctx = createExecutionContext()
    const order: string[] = []
    ctx.waitUntil(
      (async () => {
        await sleep(30)
        order.push('outer')
        ctx.waitUntil(sleep(50).then(() => order.push('inner')))
      })(),
    )
    expect(order).toEqual([])
    await waitOnExecutionContext(ctx)
    expect(order).toEqual(['outer', 'inner'])
  })

  it('a cache fill handed to waitUntil is visible after waitOnExecutionContext', async () => {
    const ctx = createExecutionContext()
    const url = key('e-fill')
    ctx.waitUntil(caches.default.put(url, body('bg', { 'cache-control': 'max-age=60' })))
    await waitOnExecutionContext(ctx)
    expect(await (await caches.default.match(url))?.text()).toBe('bg')
  })

  it('a rejected waitUntil promise makes waitOnExecutionContext reject, but only after the others settled', async () => {
    const ctx = createExecutionContext()
    let slowDone = false
    ctx.waitUntil(Promise.reject(new Error('background boom')))
    ctx.waitUntil(sleep(150).then(() => { slowDone = true }))
    const t0 = Date.now()
    const outcome = await waitOnExecutionContext(ctx).then(
      () => 'resolved',
      (e: unknown) => `rejected: ${e instanceof Error ? e.message : String(e)}`,
    )
    console.log(`[probe e] rejected waitUntil -> waitOnExecutionContext ${outcome} after ${Date.now() - t0} ms, slow one done: ${slowDone}`)
    expect(outcome).toBe('rejected: background boom')
    expect(slowDone).toBe(true)
  })

  it('calling a handler directly with (request, env, ctx) works and its waitUntil work is awaited', async () => {
    const ctx = createExecutionContext()
    const res = await probeWorker.fetch(new Request('https://edge.test/put?key=direct'), env, ctx)
    expect(await res.text()).toBe('queued')
    const target = res.headers.get('x-target')!
    expect(await caches.default.match(target)).toBeUndefined() // waitUntil sleeps 100 ms first
    await waitOnExecutionContext(ctx)
    expect(await (await caches.default.match(target))?.text()).toBe('from-waitUntil')
  })
})

describe('(f) named caches are isolated', () => {
  it('an entry in caches.open("a") is not in "b" nor in caches.default', async () => {
    const a = await caches.open('tiercache-f-a')
    const b = await caches.open('tiercache-f-b')
    const url = key('f')
    await a.put(url, body('only-a', { 'cache-control': 'max-age=60' }))
    expect(await (await a.match(url))?.text()).toBe('only-a')
    expect(await b.match(url)).toBeUndefined()
    expect(await caches.default.match(url)).toBeUndefined()
    // Opening the same name again shares entries.
    const a2 = await caches.open('tiercache-f-a')
    expect(await (await a2.match(url))?.text()).toBe('only-a')
  })
})

describe('(g) timing', () => {
  it('logs put+match latency (no assertion on speed)', async () => {
    const n = 50
    const value = 'x'.repeat(1024)
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      const url = key('g')
      await caches.default.put(url, body(value, { 'cache-control': 'max-age=60' }))
      const hit = await caches.default.match(url)
      await hit!.text()
    }
    const dt = performance.now() - t0
    console.log(`[probe g] ${n} x (put + match + read) of 1 KiB: ${dt.toFixed(1)} ms total, ${(dt / n).toFixed(2)} ms each`)
    expect(dt).toBeGreaterThanOrEqual(0)
  })

  it('records whether Date.now()/performance.now() advance during pure CPU work (no I/O)', () => {
    const d0 = Date.now()
    const p0 = performance.now()
    let x = 0
    for (let i = 0; i < 30_000_000; i++) x = (x + i * 7) % 1_000_003
    const d1 = Date.now()
    const p1 = performance.now()
    console.log(`[probe g] CPU loop (x=${x}): Date.now advanced ${d1 - d0} ms, performance.now advanced ${(p1 - p0).toFixed(1)} ms`)
    // Unlike production Workers (clock frozen until I/O), the clock runs here.
    expect(d1 - d0).toBeGreaterThan(0)
  })
})

describe('(h) module-scope state within one file', () => {
  it('first test bumps a module-level counter', () => {
    moduleCounter++
    expect(moduleCounter).toBe(1)
  })
  it('the next test in the same file sees it (module instance is shared across tests of a file)', () => {
    expect(moduleCounter).toBe(1)
  })
  it('Cache API entries written by an earlier test in this file are still there', async () => {
    const url = `${BASE}/ns/h-persist`
    await caches.default.put(url, body('h', { 'cache-control': 'max-age=60' }))
    expect(await caches.default.match(url)).toBeDefined()
  })
  it('...and visible to a later test', async () => {
    expect(await (await caches.default.match(`${BASE}/ns/h-persist`))?.text()).toBe('h')
  })
  it('reset() from cloudflare:test clears caches.default and named caches', async () => {
    const url = key('h-reset')
    const named = await caches.open('tiercache-h')
    await caches.default.put(url, body('r', { 'cache-control': 'max-age=60' }))
    await named.put(url, body('r', { 'cache-control': 'max-age=60' }))
    await reset()
    const afterDefault = await caches.default.match(url)
    const afterNamed = await named.match(url)
    console.log(`[probe h] after reset(): default ${afterDefault ? 'HIT' : 'MISS'}, named ${afterNamed ? 'HIT' : 'MISS'}`)
    expect(afterDefault).toBeUndefined()
    expect(afterNamed).toBeUndefined()
  })

  it('marks this file in the Cache API for the cross-file probe in isolation.test.ts', async () => {
    await caches.default.put(`${BASE}/marker/probe`, body('1', { 'cache-control': 'max-age=600' }))
    expect(await caches.default.match(`${BASE}/marker/isolation`)).toBeUndefined()
  })
})

describe('Node-started service reachable from workerd', () => {
  it('inject() gives the URL of the testkit Upstash endpoint provided by globalSetup, and fetch() reaches it', async () => {
    const url = inject('UPSTASH_TEST_URL')
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const res = await fetch(`${url}/pipeline`, {
      method: 'POST',
      headers: { authorization: `Bearer ${inject('UPSTASH_TEST_TOKEN')}`, 'content-type': 'application/json' },
      body: JSON.stringify([['PING']]),
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual([{ result: 'PONG' }])
  })

  it('the same URL arrives as a miniflare binding on env (cloudflare:workers)', async () => {
    expect(env.UPSTASH_REDIS_REST_URL).toBe(inject('UPSTASH_TEST_URL'))
    const res = await fetch(`${env.UPSTASH_REDIS_REST_URL}/ping`, { headers: { authorization: `Bearer ${env.UPSTASH_REDIS_REST_TOKEN}` } })
    expect(await res.json()).toEqual({ result: 'PONG' })
  })

  it('a refused connection rejects fetch() quickly (a port nobody listens on)', async () => {
    const t0 = Date.now()
    const err = await fetch('http://127.0.0.1:9/').then(
      (r) => `status ${r.status}`,
      (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)),
    )
    console.log(`[probe net] fetch to a closed port -> ${err} after ${Date.now() - t0} ms`)
    // workerd also prints a kj "Connection refused" stack to stderr here: expected noise.
    expect(err).toBe('Error: Network connection lost.')
    // Refused at once (a few ms): 5 s is far below a connect timeout and far above what a loaded machine adds.
    expect(Date.now() - t0).toBeLessThan(5_000)
  })
})

describe('SELF / main worker', () => {
  it('SELF.fetch reaches the main worker; its waitUntil work is NOT awaited by fetch', async () => {
    const res = await SELF.fetch('https://edge.test/put?key=self')
    expect(await res.text()).toBe('queued')
    const target = res.headers.get('x-target')!
    const immediately = await caches.default.match(target)
    const t0 = Date.now()
    let hit: Response | undefined
    while (!hit && Date.now() - t0 < 2000) {
      await sleep(25)
      hit = await caches.default.match(target)
    }
    console.log(`[probe self] right after SELF.fetch: ${immediately ? 'HIT' : 'MISS'}; filled after ~${Date.now() - t0} ms`)
    // The main worker shares this isolate's caches.default with the test.
    expect(await hit?.text()).toBe('from-waitUntil')
  })

  it('exports.default from cloudflare:workers is the same entry point', async () => {
    const res = await exports.default.fetch('https://edge.test/echo', { method: 'GET' })
    expect(await res.json()).toMatchObject({ method: 'GET', url: 'https://edge.test/echo', hasUpstashUrl: true })
  })
})

describe('work shared between requests (the rule behind core/src/flight.ts)', () => {
  // Each SELF.fetch is a request of its own in the main worker's isolate.
  const get = async (path: string): Promise<string> => (await SELF.fetch(`https://edge.test${path}`)).text()
  const state = async (k: string): Promise<{ beats: number; done: boolean }> => JSON.parse(await get(`/flight/state?k=${k}`))

  it("a request that answered without waitUntil leaves its work unfinished: its timers never fire again", async () => {
    const k = `gone-${seq++}`
    expect(await get(`/flight/own?k=${k}&ms=200&host=0`)).toBe('started')
    // Another request waiting with a timer of its own is answered by that timer, not by the work.
    expect(await get(`/flight/join?k=${k}&deadline=800`)).toBe('deadline')
    const after = await state(k)
    console.log(`[probe flight] owner gone: ${after.beats} beats, done ${after.done}`)
    expect(after.done).toBe(false)
    expect(after.beats).toBeLessThanOrEqual(1)
  })

  it('handed to its waitUntil, the work finishes after the answer, its heartbeat runs meanwhile, and a joiner gets its value', async () => {
    const k = `hosted-${seq++}`
    expect(await get(`/flight/own?k=${k}&ms=300&host=1`)).toBe('started')
    expect(await get(`/flight/join?k=${k}&deadline=5000`)).toBe('value')
    const after = await state(k)
    console.log(`[probe flight] owner hosted: ${after.beats} beats, done ${after.done}`)
    expect(after.done).toBe(true)
    expect(after.beats).toBeGreaterThan(1)
  })
})

describe('the runtime as core sees it', () => {
  it('reports the Workers user agent even with nodejs_compat, so core reads Date.now on every call here', () => {
    // core's defaultClock keeps its cached, timer-refreshed clock to Node; workerd drops timers set during a
    // request once the response is sent, and nodejs_compat (on in this pool) imitates process.versions.node.
    expect(navigator.userAgent).toBe('Cloudflare-Workers')
    expect(typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node).toBe('string')
  })
})
