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
      let refreshed = false
      const cache = await adapter.create({
        ttlMs: 150,
        swrMs: 60_000,
        maxEntries: 100,
        load: async (k) => {
          const own = ++version
          await sleep(own > 1 ? 10 : 0)
          if (own > 1) refreshed = true
          return { k, version: own }
        },
      })
      assert.equal((await cache.getOrSet('x')).version, 1)
      await sleep(170) // past the ttl (a longer sleep on a busy machine only goes further into the 60 s swr window)
      assert.equal((await cache.getOrSet('x')).version, 1)
      // The background refresh lands when this machine gets to it: wait for it (up to 10 s) instead of a fixed 40 ms,
      // which a loaded machine outran. The count below (2 loads, not one per read) is what the test asserts.
      let seen = 1
      for (const end = Date.now() + 10_000; seen !== 2 && Date.now() < end; ) {
        await sleep(5)
        if (refreshed) seen = (await cache.getOrSet('x')).version
      }
      assert.equal(seen, 2, 'the stale read was refreshed in the background')
      assert.equal(version, 2)
      await cache.close?.()
    })
  }
}
