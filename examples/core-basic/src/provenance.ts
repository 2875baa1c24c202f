import { createCache, memoryStore, type ReadStatus } from '@tiercache/core'
import { createSlowDb } from './db.js'

export async function provenance() {
  const db = createSlowDb(5)
  const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '5m', staleIfError: '1h' } })

  // How was this answered? Pass a status object; the read fills it in (nothing is computed when you don't).
  const status: ReadStatus = {}
  await cache.getOrSet('product:1', () => db.product(1), undefined, { status })
  const first = status.state // 'loaded' (tier -1, stored: true)
  await cache.getOrSet('product:1', () => db.product(1), undefined, { status })
  const second = `${status.state} from ${status.tierName}, fresh until ${status.entry?.freshUntil}` // 'fresh from memory, ...'

  // The loader decides about its own answer:
  const personal = await cache.getOrSet('greeting', (ctx) => {
    ctx.skip() // for this caller only: not stored, and callers that joined this load run their own loader
    return 'Hello, Ada'
  })
  const gone = await cache
    .getOrSet('product:999', async (ctx) => (await db.product(999)) ?? ctx.fail(new Error('gone'))) // no stale answer hides it
    .catch((error: Error) => error.message)

  // And the caller can skip every tier for once:
  const reloaded = await cache.getOrSet('product:1', () => db.product(1), undefined, { forceFresh: true })
  return { first, second, personal, gone, reloaded: reloaded?.name, loads: db.calls.product }
}
