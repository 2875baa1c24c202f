/**
 * Probes (opt-in: `pnpm test:probes`; run in Node, drive Debian's Chromium through playwright-core): the facts the
 * browser package relies on. Each is a real assertion; timings are logged.
 */
import { rm } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createHarness, launchChromium, startTestServer, type Harness, type TestServer } from './harness.js'

const probeEntry = fileURLToPath(new URL('./pages/probe-page.ts', import.meta.url))

/** Server-side state for the cache-header routes. */
let version = 1
const etagOf = () => `"v${version}"`

function sendVersioned(req: IncomingMessage, res: ServerResponse, cacheControl: string, extra: Record<string, string> = {}) {
  const etag = etagOf()
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag, 'cache-control': cacheControl, ...extra })
    return res.end()
  }
  res.writeHead(200, { 'content-type': 'application/json', etag, 'cache-control': cacheControl, ...extra })
  res.end(JSON.stringify({ version }))
}

const routes = {
  '/api/fresh': (req: IncomingMessage, res: ServerResponse) => sendVersioned(req, res, 'max-age=60'),
  '/api/swr': (req: IncomingMessage, res: ServerResponse) => sendVersioned(req, res, 'max-age=1, stale-while-revalidate=60'),
  '/api/etag': (req: IncomingMessage, res: ServerResponse) => sendVersioned(req, res, 'no-cache'),
  '/api/no-store': (req: IncomingMessage, res: ServerResponse) => sendVersioned(req, res, 'no-store'),
  '/api/vary': (req: IncomingMessage, res: ServerResponse) =>
    sendVersioned(req, res, 'max-age=60', { vary: 'Accept-Language', 'content-language': req.headers['accept-language'] ?? '' }),
}

describe('chromium launch', () => {
  it('launches (persistent context on a tmp profile, and launch()+newContext) and logs the time', async () => {
    const timings: Record<string, number> = {}
    for (const persistent of [true, false]) {
      const c = await launchChromium({ persistent })
      try {
        const page = await c.context.newPage()
        expect(await page.evaluate(() => navigator.userAgent)).toMatch(/Chrome\/\d+/)
        timings[persistent ? 'persistent' : 'launch+newContext'] = Math.round(c.launchMs)
      } finally {
        await c.close()
      }
    }
    console.log('[harness] chromium launch ms:', timings)
  })
})

describe('one origin, one persistent context', () => {
  let h: Harness

  beforeAll(async () => {
    h = await createHarness({ bundles: { probe: probeEntry }, routes })
    console.log(`[harness] createHarness (bundle + server + launch) chromium launch ${Math.round(h.chromium.launchMs)} ms`)
  })
  afterAll(async () => {
    await h?.close()
  })

  it('serves the page from a secure 127.0.0.1 origin with storage.estimate()', async () => {
    const page = await h.open()
    const est = await page.evaluate(() => window.probe.estimate())
    expect(est.secure).toBe(true)
    expect(est.quota).toBeGreaterThan(0)
    expect(typeof est.usage).toBe('number')
    expect(typeof est.persisted).toBe('boolean')
    await page.close()
  })

  it('keeps an IndexedDB entry across page.reload()', async () => {
    const page = await h.open()
    const entry = { value: { n: 1 }, createdAt: 1, freshUntil: 2, staleUntil: 3, tags: ['a'] }
    await page.evaluate((e) => window.probe.idbPut('reload-key', e), entry)
    await page.reload()
    await page.waitForFunction(() => window.__ready === true)
    expect(await page.evaluate(() => window.probe.idbGet('reload-key'))).toEqual(entry)
    await page.close()
  })

  it('sees the entry from a second page of the same origin', async () => {
    const page = await h.open()
    expect(await page.evaluate(() => window.probe.idbGet('reload-key'))).toMatchObject({ value: { n: 1 } })
    await page.close()
  })

  it('delivers a BroadcastChannel message from page A to page B (and to other channels in A)', async () => {
    const a = await h.open()
    const b = await h.open()
    await a.evaluate(() => window.probe.broadcast({ type: 'invalidate', tags: ['users'] }))
    await b.waitForFunction(() => window.probe.received().length > 0)
    expect(await b.evaluate(() => window.probe.received())).toEqual([{ type: 'invalidate', tags: ['users'] }])
    // Spec: every other BroadcastChannel object of that name gets it, including ones in the
    // sending page; only the sending object itself is skipped. A tab must ignore its own echo.
    await a.waitForFunction(() => window.probe.received().length > 0)
    expect(await a.evaluate(() => window.probe.received())).toEqual([{ type: 'invalidate', tags: ['users'] }])
    await Promise.all([a.close(), b.close()])
  })

  describe('fetch from the page to the same-origin test server', () => {
    let page: Awaited<ReturnType<Harness['open']>>
    beforeAll(async () => {
      page = await h.open()
    })
    afterAll(async () => {
      await page.close()
    })

    it('reads Cache-Control, ETag and Vary headers', async () => {
      version = 1
      const res = await page.evaluate(() => window.probe.fetchInfo('/api/vary', { cache: 'no-store' }))
      expect(res.status).toBe(200)
      expect(res.headers['cache-control']).toBe('max-age=60')
      expect(res.headers.etag).toBe('"v1"')
      expect(res.headers.vary).toBe('Accept-Language')
      expect(JSON.parse(res.body)).toEqual({ version: 1 })
    })

    it('hands a 304 to JS when the page sends If-None-Match itself', async () => {
      version = 1
      const before = h.server.hits('/api/etag')
      const res = await page.evaluate(() => window.probe.fetchInfo('/api/etag', { headers: { 'if-none-match': '"v1"' } }))
      expect(res.status).toBe(304)
      expect(res.ok).toBe(false)
      expect(res.headers.etag).toBe('"v1"')
      expect(res.body).toBe('')
      expect(h.server.hits('/api/etag')).toBe(before + 1)
    })

    it('revalidates no-cache + ETag itself on every fetch, and turns the 304 into a 200 for JS', async () => {
      version = 7
      const hits = h.server.hits('/api/etag')
      const first = await page.evaluate(() => window.probe.fetchInfo('/api/etag'))
      const second = await page.evaluate(() => window.probe.fetchInfo('/api/etag'))
      expect(h.server.hits('/api/etag')).toBe(hits + 2)
      expect(h.server.requests.filter((r) => r.path === '/api/etag').at(-1)?.headers['if-none-match']).toBe('"v7"')
      expect([first.status, second.status]).toEqual([200, 200])
      expect(JSON.parse(second.body)).toEqual({ version: 7 }) // body from Chromium's cache
    })

    it("serves max-age responses from Chromium's own HTTP cache unless cache: 'no-store'", async () => {
      version = 1
      const first = await page.evaluate(() => window.probe.fetchInfo('/api/fresh'))
      expect(first.status).toBe(200)
      const hits = h.server.hits('/api/fresh')
      version = 2
      const second = await page.evaluate(() => window.probe.fetchInfo('/api/fresh'))
      expect(JSON.parse(second.body)).toEqual({ version: 1 }) // from the browser HTTP cache
      expect(h.server.hits('/api/fresh')).toBe(hits)
      const bypass = await page.evaluate(() => window.probe.fetchInfo('/api/fresh', { cache: 'no-store' }))
      expect(JSON.parse(bypass.body)).toEqual({ version: 2 })
      expect(h.server.hits('/api/fresh')).toBe(hits + 1)
    })

    it('never stores no-store responses in the HTTP cache', async () => {
      version = 1
      const hits = h.server.hits('/api/no-store')
      await page.evaluate(() => window.probe.fetchInfo('/api/no-store'))
      await page.evaluate(() => window.probe.fetchInfo('/api/no-store'))
      expect(h.server.hits('/api/no-store')).toBe(hits + 2)
    })

    it("honours stale-while-revalidate in Chromium's HTTP cache (stale answer, background revalidation)", async () => {
      version = 1
      await page.evaluate(() => window.probe.fetchInfo('/api/swr'))
      const hits = h.server.hits('/api/swr')
      version = 2
      await new Promise((r) => setTimeout(r, 1_200)) // past max-age=1, inside swr=60
      const stale = await page.evaluate(() => window.probe.fetchInfo('/api/swr'))
      expect(JSON.parse(stale.body)).toEqual({ version: 1 })
      await expect.poll(() => h.server.hits('/api/swr'), { timeout: 5_000 }).toBe(hits + 1)
      const revalidation = h.server.requests.filter((r) => r.path === '/api/swr').at(-1)
      expect(revalidation?.headers['if-none-match']).toBe('"v1"')
    })
  })
})

describe('storage lifetime across contexts and restarts', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ bundles: { probe: probeEntry } })
  })
  afterAll(async () => {
    await server?.close()
  })

  it('a persistent profile keeps IndexedDB across a browser restart on the same userDataDir', async () => {
    const first = await launchChromium({ keepUserDataDir: true })
    const dir = first.userDataDir!
    try {
      const page = await first.context.newPage()
      await page.goto(server.url())
      await page.waitForFunction(() => window.__ready === true)
      await page.evaluate(() => window.probe.idbPut('restart-key', 'kept'))
      await first.close()
      const second = await launchChromium({ userDataDir: dir })
      try {
        const page2 = await second.context.newPage()
        await page2.goto(server.url())
        await page2.waitForFunction(() => window.__ready === true)
        expect(await page2.evaluate(() => window.probe.idbGet('restart-key'))).toBe('kept')
      } finally {
        await second.close()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('a regular context keeps IndexedDB across reload, but a fresh context starts empty and hears no broadcasts', async () => {
    const c = await launchChromium({ persistent: false })
    try {
      const page = await c.context.newPage()
      await page.goto(server.url())
      await page.waitForFunction(() => window.__ready === true)
      await page.evaluate(() => window.probe.idbPut('ctx-key', 42))
      await page.reload()
      await page.waitForFunction(() => window.__ready === true)
      expect(await page.evaluate(() => window.probe.idbGet('ctx-key'))).toBe(42)

      const other = await c.browser!.newContext()
      try {
        const page2 = await other.newPage()
        await page2.goto(server.url())
        await page2.waitForFunction(() => window.__ready === true)
        expect(await page2.evaluate(() => window.probe.idbGet('ctx-key'))).toBeUndefined()
        await page.evaluate(() => window.probe.broadcast('cross-context?'))
        await new Promise((r) => setTimeout(r, 300))
        expect(await page2.evaluate(() => window.probe.received())).toEqual([])
      } finally {
        await other.close()
      }
    } finally {
      await c.close()
    }
  })
})

describe('cross-origin fetch (page on one port, API on another)', () => {
  let pageServer: TestServer
  let apiServer: TestServer
  let h: Awaited<ReturnType<typeof launchChromium>>

  beforeAll(async () => {
    const cors = (expose: boolean) => (req: IncomingMessage, res: ServerResponse) => {
      const headers: Record<string, string> = {
        'access-control-allow-origin': '*',
        'access-control-allow-headers': 'if-none-match',
      }
      if (expose) headers['access-control-expose-headers'] = 'ETag, Vary, Age'
      if (req.method === 'OPTIONS') {
        res.writeHead(204, headers)
        return res.end()
      }
      res.writeHead(200, { ...headers, 'content-type': 'application/json', etag: '"x1"', 'cache-control': 'max-age=5', vary: 'Accept' })
      res.end('{}')
    }
    apiServer = await startTestServer({ routes: { '/plain': cors(false), '/exposed': cors(true) } })
    pageServer = await startTestServer({ bundles: { probe: probeEntry } })
    h = await launchChromium()
  })
  afterAll(async () => {
    await h?.close()
    await Promise.all([pageServer?.close(), apiServer?.close()])
  })

  it('hides ETag/Vary unless Access-Control-Expose-Headers lists them; If-None-Match costs a preflight', async () => {
    const page = await h.context.newPage()
    await page.goto(pageServer.url())
    await page.waitForFunction(() => window.__ready === true)
    const plain = await page.evaluate((u) => window.probe.fetchInfo(u, { cache: 'no-store' }), apiServer.url('/plain'))
    expect(plain.headers['cache-control']).toBe('max-age=5') // CORS-safelisted
    expect(plain.headers.etag).toBeUndefined()
    expect(plain.headers.vary).toBeUndefined()
    const exposed = await page.evaluate((u) => window.probe.fetchInfo(u, { cache: 'no-store' }), apiServer.url('/exposed'))
    expect(exposed.headers.etag).toBe('"x1"')
    expect(exposed.headers.vary).toBe('Accept')
    const preflightsBefore = apiServer.requests.filter((r) => r.method === 'OPTIONS').length
    await page.evaluate((u) => window.probe.fetchInfo(u, { headers: { 'if-none-match': '"x1"' } }), apiServer.url('/exposed'))
    expect(apiServer.requests.filter((r) => r.method === 'OPTIONS').length).toBe(preflightsBefore + 1)
  })
})
