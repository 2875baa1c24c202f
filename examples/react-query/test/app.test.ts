// The example page in Debian's Chromium (playwright-core), against its own server on 127.0.0.1.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromiumLaunchOptions, ensureChromium } from '@tiercache/testkit'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type ExampleServer } from '../src/server.js'

let server: ExampleServer
let context: BrowserContext
let profile: string

beforeAll(async () => {
  const executablePath = await ensureChromium()
  ;[server, profile] = await Promise.all([startServer(), mkdtemp(join(tmpdir(), 'tiercache-react-query-'))])
  context = await chromium.launchPersistentContext(profile, chromiumLaunchOptions({ executablePath }))
})
afterAll(async () => {
  await context?.close()
  await server?.close()
  if (profile !== undefined) await rm(profile, { recursive: true, force: true })
})

async function open(query: string): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${server.origin}/?${query}`)
  await page.waitForFunction(() => window.__ready === true)
  return page
}

async function reload(page: Page): Promise<void> {
  await page.reload()
  await page.waitForFunction(() => window.__ready === true)
}

const shown = (page: Page) => page.evaluate(() => window.demo.shown())
const products = (n: number, version: number) => Array.from({ length: n }, (_, id) => `product ${id} v${version}`)

describe('React + TanStack Query + createQueryPersister', () => {
  it('after a reload the products come from IndexedDB: no request', async () => {
    const before = server.productRequests()
    const version = server.version()
    const page = await open(`db=reload-${Date.now()}&count=4`)
    await expect.poll(() => shown(page)).toEqual(products(4, version))
    expect(server.productRequests() - before).toBe(4)
    // The persister writes each query to IndexedDB after it settles: a reload before the writes commit loses them.
    await expect.poll(() => page.evaluate(() => window.demo.persisted(4))).toBe(4)
    await reload(page)
    await expect.poll(() => shown(page)).toEqual(products(4, version))
    expect(server.productRequests() - before).toBe(4)
    // The hooks of @tiercache/browser/react on the same cache: after the reload, IndexedDB answered them too.
    expect(await page.evaluate(() => window.demo.text('notice'))).toBe(`Notice v${version} (indexeddb)`)
    expect(await page.evaluate(() => window.demo.text('greeting'))).toBe('Hello, tiercache (indexeddb)')
    await page.close()
  })

  it('the server changed and the tag was invalidated: this tab and the other show the new products', async () => {
    const db = `invalidate-${Date.now()}`
    const a = await open(`db=${db}&count=3`)
    const version = server.version()
    await expect.poll(() => shown(a)).toEqual(products(3, version))
    const b = await open(`db=${db}&count=3`)
    await expect.poll(() => shown(b)).toEqual(products(3, version))
    const start = server.productRequests()
    server.bump()
    await a.click('button')
    await expect.poll(() => shown(a)).toEqual(products(3, version + 1))
    await expect.poll(() => shown(b)).toEqual(products(3, version + 1))
    // Each tab refetched its products once: a on its own invalidation, b on the relayed one (b may show a's results,
    // relayed, before its own refetch has even left).
    await expect.poll(() => server.productRequests() - start).toBe(6)
    await expect.poll(() => a.evaluate((v) => window.demo.persisted(3, v), version + 1)).toBe(3)
    // And after a reload, the new ones, from IndexedDB, without a request: tab b relayed tab a's invalidation with a's
    // own stamp (adopted, not a later one of b's), and what a loaded while its stamp was still being written carries
    // that stamp, so what a loaded right after the invalidation is alive for b too.
    const before = server.productRequests()
    await reload(b)
    await expect.poll(() => shown(b)).toEqual(products(3, version + 1))
    expect(server.productRequests()).toBe(before)
    await Promise.all([a.close(), b.close()])
  })

  it('with 5,000 persisted queries a reload reads only the shown ones and stays responsive', async () => {
    const page = await open(`db=many-${Date.now()}&count=6`)
    const version = server.version()
    await expect.poll(() => shown(page)).toEqual(products(6, version))
    await page.evaluate(() => window.demo.persistMany(5_000))
    const before = server.productRequests()
    await reload(page)
    await expect.poll(() => shown(page)).toEqual(products(6, version))
    expect(server.productRequests()).toBe(before)
    expect(await page.evaluate(() => window.demo.storageReads())).toBe(6 + 2) // the products shown, the notice and the greeting
    // The count above is the test (a whole-cache snapshot of 5,000 queries would read them all); the longest task
    // is a sanity bound, generous because a loaded CI machine stretches page start-up tasks (the bundle's evaluation).
    expect((await page.evaluate(() => window.demo.longTasks())).longest).toBeLessThan(5_000)
    await page.close()
  })
})
