/**
 * Two tabs of one origin: stale-then-fresh notifications (cacheUpdates over broadcastInvalidation's channel) and one
 * network request for both (Web Locks). The server counts what reaches it; `/api/held` answers only when the test
 * lets it, so that both tabs are provably asking at the same moment (the waiting tab's lock request is seen pending
 * in navigator.locks.query()).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { RouteHandler } from '../harness.js'
import { unique, type DriverEnv } from './env.js'

const versions = new Map<string, number>()
/** The version `/api/news?id=<id>` answers from now on (its ETag changes with it). */
export function setNewsVersion(id: string, version: number): void {
  versions.set(id, version)
}
/** Responses of /api/held waiting for release(). */
const held: { res: ServerResponse; id: string }[] = []

function answer(res: ServerResponse, id: string): void {
  if (res.destroyed) return
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' })
  res.end(JSON.stringify({ id, at: Date.now() }))
}

/** Answers every held request. */
function release(): void {
  for (const { res, id } of held.splice(0)) answer(res, id)
}

export const crossTabRoutes: Record<string, RouteHandler> = {
  /** ETag of the current version; 304 when it matches; stale after 60 s, revalidated in the background for 10 min. */
  '/api/news': (req: IncomingMessage, res: ServerResponse, url: URL) => {
    res.sendDate = false
    const id = url.searchParams.get('id') ?? ''
    const version = versions.get(id) ?? 1
    const etag = `"v${version}"`
    const headers = { etag, 'cache-control': 'max-age=60, stale-while-revalidate=600' }
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers)
      return res.end()
    }
    res.writeHead(200, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify({ id, version }))
  },
  '/api/held': (_req: IncomingMessage, res: ServerResponse, url: URL) => {
    res.sendDate = false
    held.push({ res, id: url.searchParams.get('id') ?? '' })
  },
}

export function crossTabScenarios(env: DriverEnv): void {
  async function twoTabs(): Promise<[Page, Page]> {
    const id = unique('x')
    const path = `/?db=${id}&channel=${id}`
    return [await env.h.open(path), await env.h.open(path)]
  }
  const hits = (path: string) => env.h.server.requests.filter((r) => r.path === path)
  const conditional = (path: string) => hits(path).filter((r) => r.headers['if-none-match'] !== undefined)

  describe('two tabs: stale-then-fresh notifications', () => {
    it('a background revalidation in tab A that got a new body notifies tab B with it', async () => {
      const [a, b] = await twoTabs()
      const id = unique('news')
      const url = `/api/news?id=${id}`
      expect(JSON.parse((await a.evaluate((u) => window.app.fetch(u), url)).body)).toEqual({ id, version: 1 })
      expect(JSON.parse((await b.evaluate((u) => window.app.fetch(u), url)).body)).toEqual({ id, version: 1 }) // B reads A's response
      expect(hits(url)).toHaveLength(1)
      await a.evaluate((u) => window.app.watchFetch(u), url)
      await b.evaluate((u) => window.app.watchFetch(u), url)
      versions.set(id, 2)
      await a.evaluate(() => window.app.advance(120_000))
      // Stale within stale-while-revalidate: A answers version 1 at once and revalidates in the background.
      expect(JSON.parse((await a.evaluate((u) => window.app.fetch(u), url)).body)).toEqual({ id, version: 1 })
      await expect.poll(() => b.evaluate(() => window.app.heard())).toEqual([
        { key: env.h.server.url(url), value: JSON.stringify({ id, version: 2 }), changed: true, remote: true },
      ])
      expect(await a.evaluate(() => window.app.heard())).toEqual([
        { key: env.h.server.url(url), value: JSON.stringify({ id, version: 2 }), changed: true, remote: false },
      ])
      expect(conditional(url)).toHaveLength(1)
      await Promise.all([a.close(), b.close()])
    })

    it('a revalidation that found nothing new (304) notifies nobody', async () => {
      const [a, b] = await twoTabs()
      const id = unique('news')
      const url = `/api/news?id=${id}`
      await a.evaluate((u) => window.app.fetch(u), url)
      await b.evaluate((u) => window.app.fetch(u), url)
      await a.evaluate((u) => window.app.watchFetch(u), url)
      await b.evaluate((u) => window.app.watchFetch(u), url)
      await b.evaluate(() => window.app.watch('marker'))
      await a.evaluate(() => window.app.advance(120_000))
      await a.evaluate((u) => window.app.fetch(u), url)
      // The revalidation happened (a 304) and its refreshed response was stored: A's second write.
      await expect.poll(() => a.evaluate(() => window.app.events().filter((e) => e.type === 'write').length)).toBe(2)
      expect(conditional(url)).toHaveLength(1)
      // Messages from one tab arrive in order: once B heard the marker A wrote after the 304, it heard everything before.
      await a.evaluate(() => window.app.set('marker', 1))
      await expect.poll(() => b.evaluate(() => window.app.heard().map((h) => h.key))).toEqual(['marker'])
      expect(await a.evaluate(() => window.app.heard())).toEqual([])
      await Promise.all([a.close(), b.close()])
    })
  })

  describe('two tabs: one network request', () => {
    it('cachedFetch: the same URL asked by both tabs at once reaches the server once; the waiting tab answers from the stored response', async () => {
      const [a, b] = await twoTabs()
      const id = unique('held')
      const url = `/api/held?id=${id}`
      const fromA = a.evaluate((u) => window.app.fetch(u), url)
      await expect.poll(() => hits(url).length).toBe(1)
      const fromB = b.evaluate((u) => window.app.fetch(u), url)
      await expect.poll(async () => (await b.evaluate(() => window.app.locks())).pending.some((name) => name.includes(id))).toBe(true)
      release()
      const [ra, rb] = await Promise.all([fromA, fromB])
      expect(rb.body).toBe(ra.body)
      expect(ra.headers['cache-status']).toMatch(/fwd=uri-miss; fwd-status=200; .*stored; detail=network$/)
      expect(rb.headers['cache-status']).toMatch(/^tiercache; hit; ttl=\d+; collapsed; detail=(memory|indexeddb)$/)
      expect(hits(url)).toHaveLength(1)
      await Promise.all([a.close(), b.close()])
    })

    it('getOrSet: both tabs missing one key run the loader once (core waits on the Web Lock, then reads IndexedDB)', async () => {
      const [a, b] = await twoTabs()
      const id = unique('held')
      const url = `/api/held?id=${id}`
      const fromA = a.evaluate(([k, u]) => window.app.loadFromServer(k, u), [id, url] as const)
      await expect.poll(() => hits(url).length).toBe(1)
      const fromB = b.evaluate(([k, u]) => window.app.loadFromServer(k, u), [id, url] as const)
      await expect.poll(async () => (await b.evaluate(() => window.app.stats())).lockWaits).toBe(1)
      release()
      const [va, vb] = await Promise.all([fromA, fromB])
      expect(vb).toEqual(va)
      expect(hits(url)).toHaveLength(1)
      await Promise.all([a.close(), b.close()])
    })

    it('closing the tab that holds the lock mid-request: the waiting tab fetches itself and finishes', async () => {
      const [a, b] = await twoTabs()
      const id = unique('held')
      const url = `/api/held?id=${id}`
      void a.evaluate((u) => window.app.fetch(u), url).catch(() => undefined) // its page goes away
      await expect.poll(() => hits(url).length).toBe(1)
      const fromB = b.evaluate((u) => window.app.fetch(u), url)
      await expect.poll(async () => (await b.evaluate(() => window.app.locks())).pending.some((name) => name.includes(id))).toBe(true)
      await a.close()
      // The browser released A's lock: B got it, found nothing stored, and asked the server itself.
      await expect.poll(() => hits(url).length).toBe(2)
      release()
      const rb = await fromB
      expect(rb.status).toBe(200)
      expect(JSON.parse(rb.body).id).toBe(id)
      expect(rb.headers['cache-status']).toMatch(/fwd=uri-miss; fwd-status=200; .*stored; detail=network$/)
      await b.close()
    })
  })
}
