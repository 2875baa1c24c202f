import { chromiumLaunchOptions, ensureChromium } from '@tiercache/testkit'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemo, type Demo } from './demo-process.js'

declare global {
  interface Window {
    /** Set by the page (src/page/main.ts). */
    tiercacheDemo: { cache: { idle(): Promise<void> } }
  }
}

interface Stats {
  origin: { calls: Record<string, number>; batches: number; total: number; rowsRead: number; failing: boolean }
  tiers: { l2: string; coordinator: string; summary: string }
}

let demo: Demo
let browser: Browser
let context: BrowserContext

beforeAll(async () => {
  const [started] = await Promise.all([startDemo(), ensureChromium()])
  demo = started
  console.info(`demo at ${demo.url}, ${(demo.startupMs / 1000).toFixed(1)} s after \`node scripts/run.mjs demo\``)
  browser = await chromium.launch(chromiumLaunchOptions())
  // One context: its pages share IndexedDB and BroadcastChannel, like tabs of one browser profile.
  context = await browser.newContext()
})

afterAll(async () => {
  await browser?.close()
  await demo?.stop()
})

async function api(path: string, init?: RequestInit): Promise<Response> {
  return fetch(`${demo.url}${path}`, init)
}

async function originCalls(key: string): Promise<number> {
  const stats = (await (await api('/api/stats')).json()) as Stats
  return stats.origin.calls[key] ?? 0
}

/** Opens the page on a product and waits for its first answer. */
async function openProduct(id: number): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${demo.url}/#${id}`)
  await page.waitForSelector('body[data-ready="true"]')
  return page
}

const shownTier = (page: Page) => page.locator('#product').getAttribute('data-tier')
const shownVersion = (page: Page) => page.locator('#product').getAttribute('data-version')

describe('the demo, started the way the README does', () => {
  it('prints a loopback URL and serves the page there', async () => {
    expect(demo.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const response = await api('/')
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('tiercache')
  })

  it('seeds D1 at start and picks KV + the Durable Object from the bindings; the page says so', async () => {
    expect(demo.output()).toContain('D1 database seeded (migrations/0001_products.sql)')
    const stats = (await (await api('/api/stats')).json()) as Stats
    expect(stats.tiers).toMatchObject({ l2: 'kv', coordinator: 'durable-object' })
    const page = await openProduct(2)
    await expect.poll(() => page.locator('#l2-name').textContent(), { timeout: 10_000 }).toBe('Workers KV')
    expect(await page.locator('#coordinator-name').textContent()).toBe('a Durable Object')
    // The product is the seeded row of D1, read by one query.
    expect(await page.locator('#product h3').textContent()).toBe('Linen desk lamp#2')
    const after = (await (await api('/api/stats')).json()) as Stats
    expect(after.origin.calls['product:2']).toBe(1)
    expect(after.origin.rowsRead - stats.origin.rowsRead).toBeGreaterThanOrEqual(1)
    await page.close()
  })

  it('answers the first load from the origin, the reload from a browser tier', async () => {
    const page = await openProduct(11)
    expect(await shownTier(page)).toBe('origin')
    expect(await originCalls('product:11')).toBe(1)

    // Let the browser cache finish writing to IndexedDB, then reload: the tab's memory is gone, IndexedDB is not.
    await page.evaluate(() => window.tiercacheDemo.cache.idle())
    await page.reload()
    await page.waitForSelector('body[data-ready="true"]')
    expect(await shownTier(page)).toBe('indexeddb')

    // Asked again in the same tab: its memory tier answers.
    await page.click('#picker button[type="submit"]')
    await expect.poll(() => page.locator('#log tr').count(), { timeout: 10_000 }).toBe(2)
    expect(await page.locator('#log tr').first().locator('.pill').textContent()).toBe('memory')
    expect(await originCalls('product:11')).toBe(1)
    await page.close()
  })

  it('shows an update made in one tab in another tab', async () => {
    const [a, b] = [await openProduct(12), await openProduct(12)]
    expect(await shownVersion(b)).toBe('1')

    await a.click('#update')
    // Tab B hears the invalidation of tag product:12 and loads the product again, past every stale copy.
    await expect.poll(() => shownVersion(b), { timeout: 10_000 }).toBe('2')
    await expect.poll(() => shownVersion(a), { timeout: 10_000 }).toBe('2')
    expect(await b.locator('[data-testid="price"]').textContent()).toBe(await a.locator('[data-testid="price"]').textContent())
    await Promise.all([a.close(), b.close()])
  })

  it('"Change price · soft": the next requests get the old price, stale, while one query runs; "· hard": they miss and wait for one', async () => {
    const page = await openProduct(33)
    const result = page.locator('#invalidate-result')
    const oldPrice = await page.locator('[data-testid="price"]').textContent()

    await page.click('#soft')
    await expect.poll(() => result.getAttribute('data-done'), { timeout: 20_000 }).toBe('true')
    expect(await result.getAttribute('data-mode')).toBe('soft')
    // The first of the five requests sent right after found the stale copy (the others too, or the new one once stored).
    expect(Number(await result.getAttribute('data-stale'))).toBeGreaterThanOrEqual(1)
    expect(await result.getAttribute('data-queries')).toBe('1')
    expect(await result.textContent()).toContain(`got the old price ${oldPrice} (stale)`)
    expect(await page.locator('#log tr', { hasText: 'right after the soft invalidation: old price' }).count()).toBeGreaterThanOrEqual(1)
    // The tab's own tiers were invalidated too: the card shows the new price.
    await expect.poll(() => page.locator('[data-testid="price"]').textContent(), { timeout: 10_000 }).not.toBe(oldPrice)

    await page.click('#hard')
    await expect.poll(() => result.getAttribute('data-mode'), { timeout: 20_000 }).toBe('hard')
    await expect.poll(() => result.getAttribute('data-done'), { timeout: 20_000 }).toBe('true')
    expect(await result.getAttribute('data-stale')).toBe('0')
    expect(await result.getAttribute('data-queries')).toBe('1')
    expect(await page.locator('#log tr', { hasText: 'right after the hard invalidation: new price' }).count()).toBe(5)
    await page.close()
  })

  it('caches a 404 negatively at the edge and in the browser', async () => {
    const page = await openProduct(999)
    expect(await shownTier(page)).toBe('origin')
    await expect(page.locator('#log tr').first().locator('.status').textContent()).resolves.toBe('404')

    // The edge remembers "not found": a second request is a hit and the database is not asked again.
    const again = await api('/api/products/999')
    expect(again.status).toBe(404)
    expect(again.headers.get('cache-status')).toMatch(/^edge; hit/)
    expect(again.headers.get('cache-control')).toMatch(/max-age=\d+/)
    expect(await originCalls('product:999')).toBe(1)

    // And so does the browser.
    await page.click('#picker button[type="submit"]')
    await expect.poll(() => page.locator('#log tr').count(), { timeout: 10_000 }).toBe(2)
    expect(await page.locator('#log tr').first().locator('.pill').textContent()).toBe('memory')
    await page.close()
  })

  it('keeps the origin at one call per key under 50 concurrent requests', async () => {
    const responses = await Promise.all(Array.from({ length: 50 }, () => api('/api/products/40')))
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200))
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<{ id: number }>))
    expect(new Set(bodies.map((b) => b.id))).toEqual(new Set([40]))
    expect(await originCalls('product:40')).toBe(1)
  })

  it('loads every miss of a batch in one origin query', async () => {
    await api('/api/products?ids=20,21') // cached now: the next batch must not ask for them again
    const before = ((await (await api('/api/stats')).json()) as Stats).origin.batches
    const response = await api('/api/products?ids=20,21,22,23')
    const body = (await response.json()) as { products: { id: number }[]; loadedFromOrigin: string[] }
    expect(body.products.map((p) => p.id)).toEqual([20, 21, 22, 23])
    expect(body.loadedFromOrigin).toEqual(['product:22', 'product:23'])
    const stats = (await (await api('/api/stats')).json()) as Stats
    expect(stats.origin.batches).toBe(before + 1)
    for (const id of [20, 21, 22, 23]) expect(stats.origin.calls[`product:${id}`]).toBe(1)
  })

  it('warms the top products with progress, skipping those already fresh; the batch route then answers without the database', async () => {
    await api('/api/products?ids=1,2') // fresh now: warming must leave them alone
    const before = ((await (await api('/api/stats')).json()) as Stats).origin
    const lines = (await (await api('/api/warm', { method: 'POST' })).text())
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { total: number; done: number; loaded: number; fresh: number; failed: number; finished?: boolean })
    const last = lines.at(-1)
    expect(last).toMatchObject({ finished: true, total: 30, done: 30, failed: 0 })
    expect((last?.loaded ?? 0) + (last?.fresh ?? 0)).toBe(30)
    expect(last?.fresh).toBeGreaterThanOrEqual(2)
    // A progress line after every product, in order.
    const progress = lines.slice(0, -1).map((line) => line.done)
    expect(progress).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    const after = ((await (await api('/api/stats')).json()) as Stats).origin
    expect(after.total - before.total).toBe(last?.loaded) // one query per product loaded, none for a fresh one
    for (const key of ['product:1', 'product:2']) expect(after.calls[key]).toBe(before.calls[key])
    const batch = (await (await api('/api/products?ids=3,4,5,6')).json()) as { loadedFromOrigin: string[] }
    expect(batch.loadedFromOrigin).toEqual([])
  })

  it('moves the progress bar of "Warm top products" to the end and says what it did', async () => {
    const page = await openProduct(1)
    await page.click('#warm')
    await page.waitForSelector('body[data-warmed="true"]', { timeout: 60_000 })
    expect(await page.locator('#warm-progress').evaluate((bar: HTMLProgressElement) => [bar.value, bar.max])).toEqual([30, 30])
    expect(await page.locator('#warm-status').textContent()).toMatch(/^\d+ loaded, \d+ already fresh$/)
    expect(await page.locator('#log tr').first().textContent()).toContain('POST /api/warm')
    await page.close()
  })
})


describe('the batch route, per product', () => {
  const setOrigin = async (failing: boolean): Promise<void> => {
    const response = await api('/api/origin/fail', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ failing }) })
    expect(response.status).toBe(200)
  }

  it('answers the products that have a copy and lists the others as unavailable while the database is down', async () => {
    expect((await api('/api/products?ids=45')).status).toBe(200) // product:45 has a copy in the tiers now
    await setOrigin(true)
    try {
      const response = await api('/api/products?ids=45,46,45,46')
      expect(response.status).toBe(200)
      // A partial answer is for this moment only.
      expect(response.headers.get('cache-control')).toBe('no-store')
      const body = (await response.json()) as { products: ({ id: number } | null)[]; unavailable: number[] }
      expect(body.products.map((product) => product?.id ?? null)).toEqual([45, null, 45, null])
      expect(body.unavailable).toEqual([46])
      // Nothing to answer with at all: the database's 503, as before.
      expect((await api('/api/products?ids=47,48')).status).toBe(503)
    } finally {
      await setOrigin(false)
    }
    const back = (await (await api('/api/products?ids=45,46')).json()) as { products: { id: number }[]; unavailable?: number[] }
    expect(back.products.map((product) => product.id)).toEqual([45, 46])
    expect(back.unavailable).toBeUndefined()
  })
})
