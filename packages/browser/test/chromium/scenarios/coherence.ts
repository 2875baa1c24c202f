/**
 * Two pages (tabs) of one origin stay coherent through broadcastInvalidation: a fill, a delete and an
 * invalidateTags in tab A reach tab B's memory tier, and nothing echoes back.
 */
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { DriverEnv } from './env.js'

export function coherenceScenarios(env: DriverEnv): void {
  /** Two tabs on one database and one channel, fresh for each test. */
  async function twoTabs(): Promise<[Page, Page]> {
    const id = Math.random().toString(36).slice(2)
    const path = `/?db=tabs-${id}&channel=ch-${id}`
    return [await env.h.open(path), await env.h.open(path)]
  }

  describe('two tabs', () => {
    it('a fresh fill in tab A lands in tab B memory tier; B answers it without loading', async () => {
      const [a, b] = await twoTabs()
      expect(await a.evaluate(() => window.app.syncActive())).toBe(true)
      await a.evaluate(() => window.app.getOrSet('user:1', { name: 'Ada' }))
      await expect.poll(() => b.evaluate(() => window.app.memory('user:1'))).toEqual({ name: 'Ada' })
      expect(await b.evaluate(() => window.app.getOrSet('user:1', 'B would load this'))).toEqual({ name: 'Ada' })
      const bEvents = await b.evaluate(() => window.app.events())
      expect(bEvents.filter((e) => e.type === 'load')).toEqual([])
      expect(bEvents.filter((e) => e.type === 'hit').map((e) => e.tier)).toEqual(['memory'])
      await Promise.all([a.close(), b.close()])
    })

    it('a delete in tab A removes the key from tab B memory tier', async () => {
      const [a, b] = await twoTabs()
      await b.evaluate(() => window.app.set('cart', ['apple']))
      await expect.poll(() => a.evaluate(() => window.app.memory('cart'))).toEqual(['apple'])
      await a.evaluate(() => window.app.delete('cart'))
      await expect.poll(() => b.evaluate(() => window.app.memory('cart'))).toBeNull()
      expect(await b.evaluate(() => window.app.get('cart'))).toBeUndefined()
      await Promise.all([a.close(), b.close()])
    })

    it('invalidateTags in tab A stops tab B from serving the tags, from memory and IndexedDB alike, without echo', async () => {
      const [a, b] = await twoTabs()
      await b.evaluate(async () => {
        await window.app.set('p:1', 'shoe', ['products'])
        await window.app.set('p:2', 'hat', ['products'])
        await window.app.set('other', 'kept', ['misc'])
        await window.app.idle()
      })
      await a.evaluate(() => window.app.invalidate(['products']))
      await expect.poll(() => b.evaluate(() => window.app.get('p:1'))).toBeUndefined()
      expect(await b.evaluate(() => window.app.get('p:2'))).toBeUndefined()
      expect(await b.evaluate(() => window.app.get('other'))).toBe('kept')
      // B applied the invalidation once and sent nothing back: A saw exactly one invalidate, its own.
      const invalidations = (await b.evaluate(() => window.app.events())).filter((e) => e.type === 'invalidate')
      expect(invalidations).toHaveLength(1)
      expect((await a.evaluate(() => window.app.events())).filter((e) => e.type === 'invalidate')).toHaveLength(1)
      await Promise.all([a.close(), b.close()])
    })

    it('a reloaded tab rejoins: it hears the other tab again', async () => {
      const [a, b] = await twoTabs()
      await b.reload()
      await b.waitForFunction(() => window.__ready === true)
      await a.evaluate(() => window.app.set('after-reload', 1))
      await expect.poll(() => b.evaluate(() => window.app.memory('after-reload'))).toBe(1)
      await Promise.all([a.close(), b.close()])
    })
  })
}
