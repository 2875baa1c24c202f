// broadcastInvalidation over Chromium's BroadcastChannel: two caches in this page stand for two tabs (every
// other channel object of the name hears a message, in this page too). Real two-page tests: coherence.driver.test.ts.
import { createCache, memoryStore } from '@tiercache/core'
import type { MemoryStore } from '@tiercache/core/store'
import { afterEach, expect, it, vi } from 'vitest'
import { broadcastInvalidation, indexedDbStore, type BroadcastHandle, type IndexedDbStore } from '../../src/index.js'

const open: (BroadcastHandle | IndexedDbStore)[] = []
afterEach(async () => {
  for (const thing of open.splice(0)) await thing.close()
})

it('keeps two caches of one origin coherent: write, delete, invalidateTags', async () => {
  const channel = `bc-${crypto.randomUUID()}`
  const dbName = `bc-${crypto.randomUUID()}`
  const tab = () => {
    const memory = memoryStore()
    const idb = indexedDbStore({ dbName })
    const cache = createCache({ tiers: [memory, idb], policy: { ttl: '1m' } })
    open.push(idb, broadcastInvalidation(cache, { channel }))
    return { cache, memory }
  }
  const a = tab()
  const b = tab()
  await a.cache.set('k', 'v', { ttl: '1m', tags: ['t'] })
  await vi.waitFor(() => expect((b.memory as MemoryStore).peek(':k')?.value).toBe('v'), { timeout: 10_000 })
  await a.cache.delete('k')
  await vi.waitFor(() => expect(b.memory.peek(':k')).toBeUndefined(), { timeout: 10_000 })
  await b.cache.set('j', 'w', { ttl: '1m', tags: ['t'] })
  await b.cache.idle()
  await a.cache.invalidateTags(['t'])
  await vi.waitFor(async () => expect(await b.cache.get('j')).toBeUndefined(), { timeout: 10_000 })
})
