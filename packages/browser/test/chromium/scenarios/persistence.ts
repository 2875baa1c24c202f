/**
 * indexedDbStore in a real page: entries survive a reload, tag invalidations too (indexedDbCoordinator), and
 * storage pressure (a small maxEntries with large values) evicts instead of failing. A real QuotaExceededError: quota.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, expect, it } from 'vitest'
import type { RouteHandler } from '../harness.js'
import { unique as db, type DriverEnv } from './env.js'

export const persistenceRoutes: Record<string, RouteHandler> = {
  '/api/catalog': (_req: IncomingMessage, res: ServerResponse) => {
    res.sendDate = false
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300', etag: '"c1"' })
    res.end(JSON.stringify({ items: [1, 2, 3] }))
  },
  '/api/tagged': (_req: IncomingMessage, res: ServerResponse) => {
    res.sendDate = false
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' })
    res.end(JSON.stringify({ served: ++taggedServed }))
  },
}
let taggedServed = 0

export function persistenceScenarios(env: DriverEnv): void {
  describe('persistence', () => {
    const h = () => env.h
    it('entries and fetched responses survive a page reload, answered by IndexedDB', async () => {
      const name = db('reload')
      const page = await h().open(`/?db=${name}`)
      await page.evaluate(() => window.app.set('user:1', { name: 'Ada' }))
      const first = await page.evaluate(() => window.app.fetch('/api/catalog'))
      expect(first.headers['cache-status']).toMatch(/fwd=uri-miss; fwd-status=200; ttl=\d+; stored/)
      await page.evaluate(() => window.app.idle())
      expect(h().server.hits('/api/catalog')).toBe(1)

      await page.reload()
      await page.waitForFunction(() => window.__ready === true)
      expect(await page.evaluate(() => window.app.memory('user:1'))).toBeNull()
      expect(await page.evaluate(() => window.app.get('user:1'))).toEqual({ name: 'Ada' })
      const again = await page.evaluate(() => window.app.fetch('/api/catalog'))
      expect(again.body).toBe('{"items":[1,2,3]}')
      expect(again.headers['cache-status']).toMatch(/^tiercache; hit; ttl=\d+; detail=indexeddb$/)
      expect(h().server.hits('/api/catalog')).toBe(1)
      // Both reads after the reload (cache.get of user:1, then the fetch) were answered by IndexedDB.
      const hits = (await page.evaluate(() => window.app.events())).filter((e) => e.type === 'hit')
      expect(hits.map((e) => e.tier)).toEqual(['indexeddb', 'indexeddb'])
      await page.close()
    })

    it('a tag invalidated before a reload stays invalidated: IndexedDB entries carrying it are loaded and fetched again', async () => {
      const page = await h().open(`/?db=${db('tags')}`)
      await page.evaluate(async () => {
        await window.app.getOrSet('p:1', 'shoe v1', ['products'])
        await window.app.getOrSet('note', 'kept', ['misc'])
      })
      const first = await page.evaluate(() => window.app.taggedFetch('/api/tagged'))
      expect(first.headers['cache-status']).toMatch(/fwd=uri-miss; fwd-status=200; ttl=\d+; stored/)
      await page.evaluate(() => window.app.idle())
      const served = h().server.hits('/api/tagged')
      await page.evaluate(() => window.app.invalidate(['products', 'catalog']))
      // Nothing was deleted from IndexedDB: after the reload only the persisted tag times can stop these entries.
      expect(await page.evaluate(() => window.app.idbCount())).toBe(3)

      await page.reload()
      await page.waitForFunction(() => window.__ready === true)
      expect(await page.evaluate(() => window.app.getOrSet('p:1', 'shoe v2', ['products']))).toBe('shoe v2')
      expect(await page.evaluate(() => window.app.getOrSet('note', 'not loaded', ['misc']))).toBe('kept')
      const again = await page.evaluate(() => window.app.taggedFetch('/api/tagged'))
      expect(again.headers['cache-status']).toMatch(/^tiercache; fwd=uri-miss; fwd-status=200; ttl=\d+; stored; detail=network$/)
      expect(JSON.parse(again.body)).not.toEqual(JSON.parse(first.body))
      expect(h().server.hits('/api/tagged')).toBe(served + 1)
      const events = await page.evaluate(() => window.app.events())
      // The cached fetch reads and writes the cache itself (its loader is the network): only getOrSet loads.
      expect(events.filter((e) => e.type === 'load').map((e) => e.key)).toEqual(['p:1'])
      expect(events.filter((e) => e.type === 'hit').map((e) => [e.key, e.tier])).toEqual([['note', 'indexeddb']])
      expect(events.filter((e) => e.type === 'error')).toEqual([])
      await page.evaluate(() => window.app.idle())

      // What was loaded after the invalidation lives on: the next page load answers it from IndexedDB.
      await page.reload()
      await page.waitForFunction(() => window.__ready === true)
      expect(await page.evaluate(() => window.app.getOrSet('p:1', 'shoe v3', ['products']))).toBe('shoe v2')
      expect((await page.evaluate(() => window.app.taggedFetch('/api/tagged'))).headers['cache-status']).toMatch(/^tiercache; hit; ttl=\d+; detail=indexeddb$/)
      expect(h().server.hits('/api/tagged')).toBe(served + 1)
      await page.close()
    })
  })

  describe('storage pressure', () => {
    const h = () => env.h
    it('a small maxEntries with large values evicts the least recently used instead of failing', async () => {
      const page = await h().open(`/?db=${db('max')}&maxEntries=4`)
      const failures = await page.evaluate(() => window.app.fill('big:', 12, 512 * 1024))
      expect(failures).toBe(0)
      expect(await page.evaluate(() => window.app.idbCount())).toBeLessThanOrEqual(4)
      const events = await page.evaluate(() => window.app.events())
      expect(events.filter((e) => e.type === 'evict' && e.tier === 'indexeddb' && e.reason === 'capacity').length).toBeGreaterThanOrEqual(8)
      expect(events.filter((e) => e.type === 'error')).toEqual([])
      await page.close()
    })
  })
}
