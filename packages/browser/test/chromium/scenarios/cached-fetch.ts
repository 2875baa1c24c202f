/**
 * createCachedFetch in Chromium against a local server that sends real caching headers. The server's request
 * log shows what reached it (counts, If-None-Match). The page clock moves forward instead of sleeping; routes
 * send no Date header so that the moved clock does not read as response age.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Page } from 'playwright-core'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { startTestServer, type RouteHandler, type TestServer } from '../harness.js'
import { unique, type DriverEnv } from './env.js'

const versions = new Map<string, number>()

/** A JSON response with an ETag of the route's current version; 304 when the request's If-None-Match matches. */
function versioned(cacheControl: string, extra: (req: IncomingMessage) => Record<string, string> = () => ({})) {
  return (req: IncomingMessage, res: ServerResponse, url: URL) => {
    res.sendDate = false
    const version = versions.get(url.pathname) ?? 1
    const etag = `"v${version}"`
    const headers = { etag, 'cache-control': cacheControl, ...extra(req) }
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers)
      return res.end()
    }
    res.writeHead(200, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify({ path: url.pathname, version, lang: req.headers['accept-language'] ?? null }))
  }
}

export const cachedFetchRoutes: Record<string, RouteHandler> = {
  '/api/max-age': versioned('max-age=60'),
  '/api/etag': versioned('max-age=10'),
  '/api/no-cache': versioned('no-cache'),
  '/api/revalidate': versioned('max-age=0'),
  '/api/browser-cached': versioned('max-age=600'),
  '/api/swr': versioned('max-age=10, stale-while-revalidate=60'),
  '/api/no-store': versioned('no-store'),
  '/api/vary': versioned('max-age=60', () => ({ vary: 'Accept-Language' })),
  '/api/flaky': (req, res, url) => {
    if ((versions.get(url.pathname) ?? 1) > 1) {
      res.writeHead(503, { 'content-type': 'text/plain' })
      return res.end('down')
    }
    return versioned('max-age=10, stale-if-error=300')(req, res, url)
  },
}

export function cachedFetchScenarios(env: DriverEnv): void {
  describe('createCachedFetch against a real server (RFC 9111 / 5861)', () => {
    let page: Page
    beforeEach(async () => {
      await page?.close()
      page = await env.h.open(`/?db=${unique('fetch')}`)
    })
    afterAll(async () => {
      await page?.close()
    })

    const get = (path: string, init?: RequestInit) => page.evaluate(([p, i]) => window.app.fetch(p, i), [path, init] as const)
    const advance = (ms: number) => page.evaluate((n) => window.app.advance(n), ms)
    const requests = (path: string) => env.h.server.requests.filter((r) => r.path === path)

    it('max-age: answered from the cache until stale, without reaching the server', async () => {
      const first = await get('/api/max-age')
      // The request's own round trip counts as age (§4.2.3), so a second may be gone already.
      expect(first.headers['cache-status']).toMatch(/^tiercache; fwd=uri-miss; fwd-status=200; ttl=(59|60); stored; detail=network$/)
      await advance(59_000)
      const hit = await get('/api/max-age')
      expect(hit.body).toBe(first.body)
      expect(hit.headers['cache-status']).toMatch(/^tiercache; hit; ttl=[01]; detail=memory$/)
      expect(hit.headers.age).toMatch(/^(59|60)$/)
      expect(requests('/api/max-age')).toHaveLength(1)
      await advance(2_000)
      await get('/api/max-age')
      expect(requests('/api/max-age')).toHaveLength(2)
    })

    it('ETag: a stale response is revalidated with If-None-Match, and the 304 refreshes it', async () => {
      await get('/api/etag')
      await advance(11_000)
      const revalidated = await get('/api/etag')
      expect(revalidated.status).toBe(200)
      expect(JSON.parse(revalidated.body)).toMatchObject({ version: 1 })
      expect(revalidated.headers['cache-status']).toMatch(/^tiercache; fwd=stale; fwd-status=304; ttl=(9|10); stored; detail=network$/)
      const seen = requests('/api/etag')
      expect(seen).toHaveLength(2)
      expect(seen[0]?.headers['if-none-match']).toBeUndefined()
      expect(seen[1]?.headers['if-none-match']).toBe('"v1"')
      // Fresh again for max-age from the 304.
      await advance(9_000)
      expect((await get('/api/etag')).headers['cache-status']).toMatch(/; hit; ttl=[01];/)
      expect(requests('/api/etag')).toHaveLength(2)
      // A new version on the server: the next revalidation gets a 200 with it.
      versions.set('/api/etag', 2)
      await advance(2_000)
      expect(JSON.parse((await get('/api/etag')).body)).toMatchObject({ version: 2 })
      expect(requests('/api/etag')[2]?.headers['if-none-match']).toBe('"v1"')
    })

    it('no-cache: stored, but revalidated with the server on every use', async () => {
      for (let i = 0; i < 3; i++) expect(JSON.parse((await get('/api/no-cache')).body)).toMatchObject({ version: 1 })
      expect(requests('/api/no-cache').map((r) => r.headers['if-none-match'] ?? null)).toEqual([null, '"v1"', '"v1"'])
    })

    it('stale-while-revalidate: the stale response answers at once, the revalidation runs in the background', async () => {
      await get('/api/swr')
      await advance(20_000)
      const stale = await get('/api/swr')
      expect(stale.headers['cache-status']).toMatch(/^tiercache; hit; ttl=-1[01]; detail=memory$/)
      await expect.poll(() => requests('/api/swr').length).toBe(2)
      expect(requests('/api/swr')[1]?.headers['if-none-match']).toBe('"v1"')
      await page.evaluate(() => window.app.idle())
      expect((await get('/api/swr')).headers['cache-status']).toMatch(/; hit; ttl=(9|10);/)
      expect(requests('/api/swr')).toHaveLength(2)
    })

    it('no-store: never stored, every request reaches the server', async () => {
      for (let i = 0; i < 3; i++) {
        const res = await get('/api/no-store')
        expect(res.headers['cache-status']).toBe('tiercache; fwd=uri-miss; fwd-status=200; detail=network')
      }
      expect(requests('/api/no-store')).toHaveLength(3)
      expect(requests('/api/no-store').every((r) => r.headers['if-none-match'] === undefined)).toBe(true)
    })

    it('Vary: one stored response per Accept-Language', async () => {
      const en = { headers: { 'accept-language': 'en' } }
      const de = { headers: { 'accept-language': 'de' } }
      expect(JSON.parse((await get('/api/vary', en)).body).lang).toBe('en')
      expect(JSON.parse((await get('/api/vary', de)).body).lang).toBe('de')
      expect(JSON.parse((await get('/api/vary', en)).body).lang).toBe('en')
      const deHit = await get('/api/vary', de)
      expect(JSON.parse(deHit.body).lang).toBe('de')
      expect(deHit.headers['cache-status']).toMatch(/; hit;/)
      expect(requests('/api/vary').map((r) => r.headers['accept-language'])).toEqual(['en', 'de'])
    })

    it('stale-if-error: a 503 gets the stored response while the window lasts', async () => {
      await get('/api/flaky')
      versions.set('/api/flaky', 2)
      await advance(30_000)
      const saved = await get('/api/flaky')
      expect(saved.status).toBe(200)
      expect(saved.headers['cache-status']).toMatch(/^tiercache; fwd=stale; fwd-status=503; ttl=-2[01]; detail=stale-if-error$/)
      expect(requests('/api/flaky')).toHaveLength(2)
    })

    it('collapses concurrent identical requests into one', async () => {
      const bodies = await page.evaluate(() => Promise.all(Array.from({ length: 5 }, () => window.app.fetch('/api/max-age?burst'))))
      expect(new Set(bodies.map((b) => b.body)).size).toBe(1)
      expect(requests('/api/max-age?burst')).toHaveLength(1)
    })

    it('the request it sends: the browser cache is bypassed, and no no-cache goes to the caches on the way', async () => {
      // The page's own fetch fills Chromium's HTTP cache (fresh for 10 min); the cached fetch still reaches the server.
      await page.evaluate(async () => (await fetch('/api/browser-cached')).text())
      await get('/api/browser-cached')
      expect(requests('/api/browser-cached')).toHaveLength(2)
      await get('/api/revalidate')
      await get('/api/revalidate')
      await get('/api/revalidate', { cache: 'no-cache' })
      // Same origin: empty Cache-Control and Pragma fields keep fetch from adding its no-cache ones.
      const fields = [...requests('/api/browser-cached').slice(1), ...requests('/api/revalidate')].map((r) => [
        r.headers['cache-control'] ?? null,
        r.headers.pragma ?? null,
        r.headers['if-none-match'] ?? null,
      ])
      expect(fields).toEqual([
        ['', '', null],
        ['', '', null],
        ['', '', '"v1"'],
        ['max-age=0', '', '"v1"'],
      ])
    })

    describe('cross-origin (another port)', () => {
      let other: TestServer
      afterAll(async () => {
        await other?.close()
      })

      it("keeps fetch's no-cache fields: empty ones would cost a CORS preflight, which a server without Allow-Headers refuses", async () => {
        other = await startTestServer({
          routes: {
            '/api/cors': (_req, res) => {
              res.writeHead(200, { 'access-control-allow-origin': '*', 'cache-control': 'max-age=60', 'content-type': 'text/plain' })
              res.end('cors')
            },
          },
        })
        const url = other.url('/api/cors')
        const res = await get(url)
        expect(res.body).toBe('cors')
        expect(other.requests.map((r) => [r.method, r.headers['cache-control'] ?? null, r.headers.pragma ?? null])).toEqual([['GET', 'no-cache', 'no-cache']])
        // The alternative, measured: the same request with empty fields is preflighted, and the preflight fails here.
        const alternative = await page.evaluate(async (u) => {
          try {
            return (await fetch(u, { cache: 'no-store', headers: { 'cache-control': '', pragma: '' } })).status
          } catch (error) {
            return String(error)
          }
        }, url)
        expect(alternative).toMatch(/TypeError/)
        expect(other.requests.map((r) => r.method)).toEqual(['GET', 'OPTIONS'])
      })
    })

    it('after a reload, the response comes from IndexedDB and the server sees nothing', async () => {
      await get('/api/max-age?persist')
      await page.evaluate(() => window.app.idle())
      await page.reload()
      await page.waitForFunction(() => window.__ready === true)
      const res = await get('/api/max-age?persist')
      expect(res.headers['cache-status']).toMatch(/^tiercache; hit; ttl=\d+; detail=indexeddb$/)
      expect(requests('/api/max-age?persist')).toHaveLength(1)
    })
  })
}
