import { runStoreContract } from '@tiercache/core/testing'
import { startRedisCluster, type RedisCluster } from '@tiercache/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, inject } from 'vitest'
import { redisStore } from '../src/index.js'

const clients: Redis[] = []
let serial = 0

runStoreContract({
  name: 'redisStore (redis-server over TCP)',
  create: () => {
    const client = new Redis(inject('REDIS_URL'), { enableOfflineQueue: true, maxRetriesPerRequest: 1 })
    clients.push(client)
    return redisStore({ client, prefix: `contract:${process.pid}:${++serial}:` })
  },
  cleanup: async () => {
    await Promise.all(clients.map((c) => c.quit()))
  },
})

let cluster: RedisCluster
let clusterClient: InstanceType<typeof Redis.Cluster>
beforeAll(async () => {
  cluster = await startRedisCluster()
  clusterClient = new Redis.Cluster(cluster.startupNodes, { redisOptions: { maxRetriesPerRequest: 1 } })
})
afterAll(async () => {
  await clusterClient?.quit()
  await cluster?.stop()
})

runStoreContract({
  name: 'redisStore (3-node Redis Cluster)',
  create: () => redisStore({ client: clusterClient, prefix: `contract:${++serial}:` }),
})
