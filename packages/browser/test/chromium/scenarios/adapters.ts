/**
 * The SWR page (pages/swr-app.tsx, real swr from npm) and the React hooks page (pages/react-app.tsx), bundled by the
 * harness: persisted data after a reload without a request, updates when the server changed and a tag was
 * invalidated, no re-render for an unchanged refresh, and a reload among 5,000 persisted entries that reads only
 * what the page shows.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { RouteHandler } from '../harness.js'
import { setNewsVersion } from './cross-tab.js'
import { unique, type DriverEnv } from './env.js'

export const adapterBundles = {
  swr: fileURLToPath(new URL('../pages/swr-app.tsx', import.meta.url)),
  react: fileURLToPath(new URL('../pages/react-app.tsx', import.meta.url)),
}

/** Server-side version of each item, by database (each test has its own) and id. */
const itemVersions = new Map<string, number>()

export const adapterRoutes: Record<string, RouteHandler> = {
  '/api/item': (_req: IncomingMessage, res: ServerResponse, url: URL) => {
    const id = Number(url.searchParams.get('id'))
    const version = itemVersions.get(`${url.searchParams.get('db')}/${id}`) ?? 1
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    res.end(JSON.stringify({ id, version }))
  },
}

export function adapterScenarios(env: DriverEnv): void {
  const itemRequests = (db: string) => env.h.server.requests.filter((r) => r.path.startsWith('/api/item?') && r.path.endsWith(`&db=${db}`)).length

  async function reload(page: Page): Promise<void> {
    await page.reload()
    await page.waitForFunction(() => window.__ready === true)
  }

  describe('SWR page (createSWRCache)', () => {
    const shown = (page: Page) => page.evaluate(() => window.swrApp.shown())

    it('after a reload the items come from IndexedDB, without a request', async () => {
      const db = unique('swr')
      const page = await env.h.open(`/swr?db=${db}&count=3`)
      await expect.poll(() => shown(page)).toEqual(['0:1', '1:1', '2:1'])
      expect(itemRequests(db)).toBe(3)
      // The adapter writes to the cache in the background: reload once the three are in IndexedDB. (A stress run at
      // load 8 reloaded before one had committed, and it was fetched again: 4 requests.)
      await expect.poll(() => page.evaluate(() => window.swrApp.stored())).toBe(3)
      await reload(page)
      await expect.poll(() => shown(page)).toEqual(['0:1', '1:1', '2:1'])
      expect(itemRequests(db)).toBe(3)
      await page.close()
    })

    it('the server changed and the tag was invalidated: every tab shows the new items', async () => {
      const db = unique('swr')
      const a = await env.h.open(`/swr?db=${db}&count=2`)
      await expect.poll(() => shown(a)).toEqual(['0:1', '1:1'])
      // B reads what A stored: the adapter writes to IndexedDB in the background, so B opens once both committed (on a
      // fast machine B opened before, found nothing and fetched both again: 4 requests).
      await expect.poll(() => a.evaluate(() => window.swrApp.stored())).toBe(2)
      const b = await env.h.open(`/swr?db=${db}&count=2`)
      await expect.poll(() => shown(b)).toEqual(['0:1', '1:1'])
      expect(itemRequests(db)).toBe(2) // B read A's
      itemVersions.set(`${db}/0`, 2)
      itemVersions.set(`${db}/1`, 2)
      await a.evaluate(() => window.swrApp.invalidate(['items']))
      await expect.poll(() => shown(a)).toEqual(['0:2', '1:2'])
      await expect.poll(() => shown(b)).toEqual(['0:2', '1:2'])
      await Promise.all([a.close(), b.close()])
    })

    it('reloading among 5,000 persisted entries reads only the ones shown', async () => {
      const db = unique('swr')
      const page = await env.h.open(`/swr?db=${db}&count=5`)
      await expect.poll(() => shown(page)).toEqual(['0:1', '1:1', '2:1', '3:1', '4:1'])
      // The five are in IndexedDB before the reload (the adapter writes them in the background).
      await expect.poll(() => page.evaluate(() => window.swrApp.stored())).toBe(5)
      await page.evaluate(() => window.swrApp.seed(5_000))
      await reload(page)
      await expect.poll(() => shown(page)).toEqual(['0:1', '1:1', '2:1', '3:1', '4:1'])
      expect(itemRequests(db)).toBe(5)
      expect(await page.evaluate(() => window.swrApp.reads())).toBe(5)
      // The count of reads above is the test (the whole-cache alternative reads all 5,000); the longest task is a
      // sanity bound, generous because a loaded CI machine stretches page start-up tasks.
      expect((await page.evaluate(() => window.swrApp.longTasks())).longest).toBeLessThan(5_000)
      await page.close()
    })
  })

  describe('React hooks (useCachedFetch, useCache)', () => {
    const seen = (page: Page) => page.evaluate(() => window.reactApp.seen())
    const renders = (page: Page) => page.evaluate(() => window.reactApp.renders())

    it('answers with the tier that had it: the network or the loader first, IndexedDB after a reload', async () => {
      const db = unique('react')
      const news = unique('news')
      const page = await env.h.open(`/react?db=${db}&news=${news}`)
      await expect.poll(() => page.evaluate(() => window.reactApp.text('news'))).toBe('news v1 from network')
      await expect.poll(() => page.evaluate(() => window.reactApp.text('user'))).toBe('Ada v1')
      expect((await seen(page)).user.at(-1)).toEqual({ status: 'success', version: 1, tier: 'loader', isStale: false })
      // Suspense: the boundary showed its fallback until the first answer.
      await expect.poll(() => page.evaluate(() => window.reactApp.text('suspended'))).toBe('Grace from loader')
      expect(await page.evaluate(() => window.reactApp.fallbacks())).toBeGreaterThan(0)
      // useCache's loads write IndexedDB in the background: reload once they committed, or the reloaded page loads again.
      await page.evaluate(() => window.reactApp.idle())
      await reload(page)
      await expect.poll(() => page.evaluate(() => window.reactApp.text('suspended'))).toBe('Grace from indexeddb')
      await expect.poll(() => page.evaluate(() => window.reactApp.text('news'))).toBe('news v1 from indexeddb')
      expect((await seen(page)).user.at(-1)).toMatchObject({ version: 1, tier: 'indexeddb', isStale: false })
      await page.close()
    })

    it("another tab's revalidation re-renders the hook with the new body; an unchanged one (304) re-renders nothing", async () => {
      const db = unique('react')
      const news = unique('news')
      const a = await env.h.open(`/react?db=${db}&news=${news}`)
      const b = await env.h.open(`/react?db=${db}&news=${news}`)
      await expect.poll(() => b.evaluate(() => window.reactApp.text('news'))).toMatch(/^news v1 from /)
      await expect.poll(() => a.evaluate(() => window.reactApp.text('news'))).toMatch(/^news v1 from /)
      const before = await renders(b)

      // Unchanged: A revalidates, the server answers 304.
      await a.evaluate(() => window.reactApp.advance(120_000))
      await a.evaluate((n) => window.reactApp.fetch(`/api/news?id=${n}`), news)
      await expect.poll(() => env.h.server.requests.filter((r) => r.path === `/api/news?id=${news}` && r.headers['if-none-match'] !== undefined).length).toBe(1)
      // Changed: the next revalidation gets version 2; B re-renders once with it.
      setNewsVersion(news, 2)
      await a.evaluate((n) => window.reactApp.fetch(`/api/news?id=${n}`, { cache: 'no-cache' }), news)
      await expect.poll(() => b.evaluate(() => window.reactApp.text('news'))).toBe('news v2 from update')
      expect((await renders(b)).news).toBe(before.news + 1)
      expect((await renders(b)).user).toBe(before.user)
      await Promise.all([a.close(), b.close()])
    })

    it('useCache: a background refresh after a stale answer re-renders with the new value, an identical one does not', async () => {
      const db = unique('react')
      const page = await env.h.open(`/react?db=${db}&news=${unique('news')}`)
      await expect.poll(() => page.evaluate(() => window.reactApp.text('user'))).toBe('Ada v1')
      const before = await renders(page)
      await page.evaluate(async () => {
        window.reactApp.advance(120_000) // stale, within swr
        await window.reactApp.getUser() // answered stale, refreshed with the same value
        await window.reactApp.idle()
      })
      expect((await renders(page)).user).toBe(before.user)
      await page.evaluate(async () => {
        window.reactApp.advance(120_000)
        window.reactApp.setUserVersion(2)
        await window.reactApp.getUser()
        await window.reactApp.idle()
      })
      await expect.poll(() => page.evaluate(() => window.reactApp.text('user'))).toBe('Ada v2')
      expect((await renders(page)).user).toBe(before.user + 1)
      expect((await seen(page)).user.at(-1)).toEqual({ status: 'success', version: 2, tier: 'update', isStale: false })
      await page.close()
    })
  })
}
