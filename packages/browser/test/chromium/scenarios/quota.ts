/**
 * A real QuotaExceededError: the quota of a second origin (another test server, same browser profile) is lowered
 * through the DevTools protocol before any page of it uses IndexedDB (Chromium keeps the quota it read at that
 * moment), then the page writes more than fits.
 */
import type { CDPSession } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestServer, type TestServer } from '../harness.js'
import { appEntry, type DriverEnv } from './env.js'

const MiB = 1024 * 1024

export function quotaScenarios(env: DriverEnv): void {
  describe('storage quota', () => {
    let server: TestServer
    let cdp: CDPSession
    beforeAll(async () => {
      server = await startTestServer({ bundles: { app: appEntry } })
      const blank = await env.h.context.newPage()
      cdp = await env.h.context.newCDPSession(blank)
      // Room for about three 1 MiB values. (The page's navigator.storage.estimate() does not show the override.)
      await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.origin, quotaSize: 3.5 * MiB })
    })
    afterAll(async () => {
      await cdp?.send('Storage.overrideQuotaForOrigin', { origin: server.origin }).catch(() => undefined)
      await cdp?.detach().catch(() => undefined)
      await server?.close()
    })

    it('evicts and retries on QuotaExceededError, then degrades to a miss: never an error to the caller', async () => {
      const page = await env.h.open('/?db=quota', server)
      const failures = await page.evaluate(() => window.app.fill('q:', 12, 1024 * 1024))
      expect(failures).toBe(0)
      const events = await page.evaluate(() => window.app.events())
      const sizeEvictions = events.filter((e) => e.type === 'evict' && e.tier === 'indexeddb' && e.reason === 'size')
      const left = await page.evaluate(() => window.app.idbCount())
      const { usage, quota } = await cdp.send('Storage.getUsageAndQuota', { origin: server.origin })
      console.log(`[quota] quota ${quota} B, usage ${usage} B: ${sizeEvictions.length} size evictions, ${left} entries left of 12`)
      expect(sizeEvictions.length).toBeGreaterThan(0)
      expect(left).toBeLessThan(12)
      expect(events.filter((e) => e.type === 'error')).toEqual([])
      // The newest value is served (from memory; IndexedDB kept what fit).
      expect(await page.evaluate(() => window.app.get('q:11'))).toHaveLength(1024 * 1024)
      await page.close()
    })
  })
}
