#!/usr/bin/env node
// Screenshots the demo page in headless Chromium after a tour of what it shows (about 25 s: it waits for
// entries to go stale), to check how it looks. Start the demo first.
//   node scripts/screenshot.mjs [http://127.0.0.1:8787] [demo.png] [--width 1360] [--quick]
import { chromiumLaunchOptions } from '@tiercache/testkit'
import { chromium } from 'playwright-core'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({
  options: { width: { type: 'string', default: '1360' }, quick: { type: 'boolean', default: false } },
  allowPositionals: true,
})
const [url = 'http://127.0.0.1:8787', out = 'demo.png'] = positionals
const browser = await chromium.launch(chromiumLaunchOptions())
try {
  const page = await browser.newPage({ viewport: { width: Number(values.width), height: 900 } })
  const ready = () => page.waitForSelector('body[data-ready="true"]')
  /** Clicks and waits for the request it starts to be logged. */
  const step = async (/** @type {string} */ selector) => {
    const rows = await page.locator('#log tr').count()
    await page.click(selector)
    await page.waitForFunction((n) => document.querySelectorAll('#log tr').length > n, rows)
  }
  const chip = (/** @type {string} */ label) => `#quick button:text-is("${label}")`

  await page.goto(`${url}/#4`)
  await ready()
  const started = Date.now()
  await step(chip('3'))
  await page.evaluate(() => /** @type {any} */ (window).tiercacheDemo.cache.idle())
  await page.reload()
  await ready()
  await step('#picker button[type="submit"]')
  await step(chip("999 (404)"))
  await step(chip("999 (404)"))
  await step('#batch')
  if (!values.quick) {
    await page.check('#skip-browser')
    await step(chip('3'))
    await page.waitForTimeout(5_500)
    await step(chip('3'))
    await step(chip('3'))
    await page.uncheck('#skip-browser')
    await step('#update')
    await step('#soft') // the old price served stale while one query runs
    await page.waitForTimeout(Math.max(0, 21_000 - (Date.now() - started)))
    await page.check('#origin-down')
    await page.waitForTimeout(300)
    await step(chip('4'))
  }
  await page.waitForTimeout(300)
  await page.screenshot({ path: out, fullPage: true })
  if (!values.quick) await page.uncheck('#origin-down')
  await page.waitForTimeout(300)
  process.stdout.write(`${out}\n`)
} finally {
  await browser.close()
}
