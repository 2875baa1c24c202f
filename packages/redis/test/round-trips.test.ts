import type { Entry } from '@tiercache/core'
import { startRedisCluster, startTcpProxy, type RedisCluster, type TcpProxy } from '@tiercache/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { redisStore } from '../src/index.js'

function entry(value: unknown): Entry {
  const t = Date.now()
  return { value, createdAt: t, freshUntil: t + 60_000, staleUntil: t + 60_000, tags: ['t'] }
}

describe('round trips on one redis-server', () => {
  let proxy: TcpProxy
  let client: Redis
  beforeAll(async () => {
    proxy = await startTcpProxy({ targetPort: Number(new URL(inject('REDIS_URL')).port) })
    client = new Redis(proxy.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
    await new Promise((resolve) => client.once('ready', resolve))
  })
  afterAll(async () => {
    await client?.quit()
    await proxy?.stop()
  })

  it('get, set, delete: one each; getMany(100) and setMany(100): one each', async () => {
    const store = redisStore({ client, prefix: `rt:${Date.now()}:` })
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`)
    proxy.resetStats()
    await store.set('a', entry('A'))
    expect((await store.get('a'))?.value).toBe('A')
    await store.delete('a')
    expect(proxy.stats().roundTrips).toBe(3)
    proxy.resetStats()
    await store.setMany?.(keys.map((k, i) => [k, entry(i)] as const))
    expect(proxy.stats().roundTrips).toBe(1)
    proxy.resetStats()
    const got = await store.getMany?.(keys)
    expect(got?.map((e) => e?.value)).toEqual(keys.map((_, i) => i))
    expect(proxy.stats().roundTrips).toBe(1)
  })
})

describe('round trips on a 3-node Cluster', () => {
  let cluster: RedisCluster
  let proxies: TcpProxy[]
  let client: InstanceType<typeof Redis.Cluster>
  beforeAll(async () => {
    cluster = await startRedisCluster()
    proxies = await Promise.all(cluster.nodes.map((node) => startTcpProxy({ targetPort: node.port })))
    // Every node is reached through its proxy, also after MOVED and slot refreshes.
    const natMap = Object.fromEntries(cluster.nodes.map((node, i) => [`127.0.0.1:${node.port}`, { host: '127.0.0.1', port: (proxies[i] as TcpProxy).port }]))
    client = new Redis.Cluster(
      proxies.map((p) => ({ host: '127.0.0.1', port: p.port })),
      { natMap, redisOptions: { maxRetriesPerRequest: 1 } },
    )
    await new Promise((resolve) => client.once('ready', resolve))
  })
  afterAll(async () => {
    await client?.quit()
    await Promise.all((proxies ?? []).map((p) => p.stop()))
    await cluster?.stop()
  })

  const roundTrips = (): number[] => proxies.map((p) => p.stats().roundTrips)
  const reset = (): void => proxies.forEach((p) => p.resetStats())

  it('getMany(100) and setMany(100): one round trip per node, all nodes in parallel', async () => {
    const store = redisStore({ client, prefix: `rt:${Date.now()}:` })
    const keys = Array.from({ length: 100 }, (_, i) => `key:${i}`)
    // Warm the slot table and every node connection first.
    await store.getMany?.(keys)
    reset()
    await store.setMany?.(keys.map((k, i) => [k, entry(i)] as const))
    expect(roundTrips()).toEqual([1, 1, 1])
    reset()
    const got = await store.getMany?.(keys)
    expect(got?.map((e) => e?.value)).toEqual(keys.map((_, i) => i))
    expect(roundTrips()).toEqual([1, 1, 1])
  })

  it('a single get goes to the one node serving the key', async () => {
    const store = redisStore({ client, prefix: 'rt1:' })
    await store.set('solo', entry('S'))
    reset()
    expect((await store.get('solo'))?.value).toBe('S')
    expect(roundTrips().reduce((a, b) => a + b, 0)).toBe(1)
    const owner = await cluster.nodeFor('rt1:solo')
    expect(roundTrips()[cluster.nodes.indexOf(owner)]).toBe(1)
  })
})
