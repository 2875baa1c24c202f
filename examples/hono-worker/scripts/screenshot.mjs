#!/usr/bin/env node
// Screenshots the demo page in headless Chromium after a few clicks, to check how it looks.
//   node scripts/screenshot.mjs http://127.0.0.1:8787 [out.png] [--width 1360]
import { chromiumLaunchOptions } from '@tiercache/testkit'
import { chromium } from 'playwright-core'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({ options: { width: { type: 'string', default: '1360' } }, allowPositionals: true })
const [url = 'http://127.0.0.1:8787', out = 'demo.png'] = positionals
const browser = await chromium.launch(chromiumLaunchOptions())
try {
  const page = await browser.newPage({ viewport: { width: Number(values.width), height: 900 }, deviceScaleFactor: 1 })
  await page.goto(url)
  await page.waitForSelector('body[data-ready="true"]')
  await page.reload()
  await page.waitForSelector('body[data-ready="true"]')
  await page.click('text=Load')
  await page.click('button.chip >> text=999')
  await page.waitForTimeout(400)
  await page.click('button.chip >> text=999')
  await page.click('#batch')
  await page.waitForTimeout(500)
  await page.click('#update')
  await page.waitForTimeout(700)
  await page.click('button.chip >> text=3')
  await page.waitForTimeout(500)
  await page.screenshot({ path: out, fullPage: true })
  process.stdout.write(`${out}\n`)
} finally {
  await browser.close()
}
