import { startMemcached, startRedisCluster, type MemcachedServer, type RedisCluster } from '@tiercache/testkit'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { clusterCache, memcachedCache } from '../src/setups.js'

let cluster: RedisCluster
let memcached: MemcachedServer
beforeAll(async () => {
  ;[cluster, memcached] = await Promise.all([startRedisCluster(), startMemcached()])
})
afterAll(async () => {
  await Promise.all([cluster?.stop(), memcached?.stop()])
})

describe('the README setups', () => {
  it('Redis Cluster: values in the Cluster, one load for two caches, tags invalidated', async () => {
    const a = clusterCache(cluster.startupNodes)
    const b = clusterCache(cluster.startupNodes)
    try {
      let loads = 0
      const load = (): number => ++loads
      // The first calls may find the Cluster not connected yet: they load, and later ones use Redis.
      await expect.poll(async () => (await a.cache.set('warm', 1), b.cache.get('warm')), { timeout: 10_000 }).toBe(1)
      await a.cache.getOrSet('p', load, { tags: ['t'] })
      await a.cache.idle()
      expect(await b.cache.getOrSet('p', load, { tags: ['t'] })).toBe(1)
      await b.cache.invalidateTags(['t'])
      await expect.poll(() => a.cache.getOrSet('p', load, { tags: ['t'] })).toBe(2)
    } finally {
      a.close()
      b.close()
    }
  })

  it('Memcached L2 with Redis tags: values shared, a tag invalidated on one server stops the other', async () => {
    const a = memcachedCache(memcached.address, inject('REDIS_URL'))
    const b = memcachedCache(memcached.address, inject('REDIS_URL'))
    try {
      let loads = 0
      const key = `m${Date.now()}`
      await a.cache.getOrSet(key, () => ++loads)
      await a.cache.idle()
      expect(await b.cache.getOrSet(key, () => ++loads)).toBe(1)
      await expect.poll(() => a.cache.invalidateTags(['catalog']).then(() => true), { timeout: 10_000 }).toBe(true)
      await expect.poll(() => b.cache.getOrSet(key, () => ++loads)).toBe(2)
    } finally {
      a.close()
      b.close()
    }
  })
})
