// Each adapter must really do what the scenarios say it does: a hit does not load, a miss loads
// once, coalescing libraries load once per stampede, swr libraries answer stale and refresh once.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadAdapters } from '../src/adapters/index.mjs'
import { tiercacheAdapter } from '../src/adapters/tiercache.mjs'
import { sleep } from '../src/stats.mjs'

const { adapters, skipped } = await loadAdapters()
const NO_COALESCING = new Set(['map', 'lru-cache-get'])

for (const { adapter, reason } of skipped) {
  test(`${adapter.label}`, { skip: reason }, () => {})
}

// The hot-hit scenario also measures tiercache with its other eviction policies.
const checked = adapters.some((a) => a.id === 'tiercache') ? [...adapters, tiercacheAdapter('lfu'), tiercacheAdapter('fifo')] : adapters

for (const adapter of checked) {
  test(`${adapter.label}: miss loads once, hit does not load`, async () => {
    let loads = 0
    const cache = await adapter.create({ ttlMs: 60_000, maxEntries: 100, load: (k) => (loads++, { k }) })
    assert.deepEqual(await cache.getOrSet('a'), { k: 'a' })
    await sleep(1)
    assert.deepEqual(await cache.getOrSet('a'), { k: 'a' })
    assert.deepEqual(await cache.getOrSet('b'), { k: 'b' })
    assert.equal(loads, 2)
    await cache.close?.()
  })

  test(`${adapter.label}: concurrent misses on one key`, async () => {
    let loads = 0
    const cache = await adapter.create({
      ttlMs: 60_000,
      maxEntries: 100,
      load: async (k) => (loads++, await sleep(5), { k }),
    })
    const values = await Promise.all(Array.from({ length: 50 }, () => cache.getOrSet('s')))
    assert.ok(values.every((v) => v.k === 's'))
    assert.equal(loads, NO_COALESCING.has(adapter.id) ? 50 : 1)
    await cache.close?.()
  })

  if (adapter.swr === true) {
    test(`${adapter.label}: stale read answers at once and refreshes in the background`, async () => {
      let version = 0
      const cache = await adapter.create({
        ttlMs: 150,
        swrMs: 60_000,
        maxEntries: 100,
        load: async (k) => (version++, await sleep(version > 1 ? 10 : 0), { k, version }),
      })
      assert.equal((await cache.getOrSet('x')).version, 1)
      await sleep(170)
      assert.equal((await cache.getOrSet('x')).version, 1)
      await sleep(40)
      assert.equal((await cache.getOrSet('x')).version, 2)
      assert.equal(version, 2)
      await cache.close?.()
    })
  }
}
