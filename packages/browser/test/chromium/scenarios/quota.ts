/**
 * A real QuotaExceededError: the origin's quota is lowered through the DevTools protocol before the profile
 * first uses IndexedDB (Chromium keeps the quota it read at that moment), then the page writes more than fits.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createHarness, type Harness } from './harness.js'

const MiB = 1024 * 1024
let h: Harness
beforeAll(async () => {
  h = await createHarness({ bundles: { app: fileURLToPath(new URL('./pages/app.ts', import.meta.url)) } })
})
afterAll(async () => {
  await h?.close()
})

it('evicts and retries on QuotaExceededError, then degrades to a miss: never an error to the caller', async () => {
  const blank = h.context.pages()[0] ?? (await h.context.newPage())
  const cdp = await h.context.newCDPSession(blank)
  // Room for about three 1 MiB values. (The page's navigator.storage.estimate() does not show the override.)
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: h.server.origin, quotaSize: 3.5 * MiB })
  try {
    const page = await h.open('/?db=quota')
    const failures = await page.evaluate(() => window.app.fill('q:', 12, 1024 * 1024))
    expect(failures).toBe(0)
    const events = await page.evaluate(() => window.app.events())
    const sizeEvictions = events.filter((e) => e.type === 'evict' && e.tier === 'indexeddb' && e.reason === 'size')
    const left = await page.evaluate(() => window.app.idbCount())
    const { usage, quota } = await cdp.send('Storage.getUsageAndQuota', { origin: h.server.origin })
    console.log(`[quota] quota ${quota} B, usage ${usage} B: ${sizeEvictions.length} size evictions, ${left} entries left of 12`)
    expect(sizeEvictions.length).toBeGreaterThan(0)
    expect(left).toBeLessThan(12)
    expect(events.filter((e) => e.type === 'error')).toEqual([])
    // The newest value is served (from memory; IndexedDB kept what fit).
    expect(await page.evaluate(() => window.app.get('q:11'))).toHaveLength(1024 * 1024)
    await page.close()
  } finally {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: h.server.origin })
    await cdp.detach()
  }
})
