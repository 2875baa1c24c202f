import { runWriteQueueContract } from '@tiercache/core/testing'
import { startRedisCluster, type RedisCluster } from '@tiercache/testkit'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisWriteQueue } from '../src/index.js'
import { redisClients } from './fixtures/redis-clients.js'

let serial = 0
const prefix = `wq${process.pid}:`
const client = redisClients(prefix)

runWriteQueueContract({
  name: 'redisWriteQueue (redis-server)',
  create: () => redisWriteQueue({ client: client(), prefix, name: `contract${++serial}` }),
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

runWriteQueueContract({
  name: 'redisWriteQueue (3-node Redis Cluster)',
  create: () => redisWriteQueue({ client: clusterClient, prefix, name: `cluster${++serial}` }),
})

describe('redisWriteQueue', () => {
  const record = (key: string, version: number) => ({ key, op: 'set' as const, value: version, version, writtenAt: 0, attempts: 0 })

  it('hands the records a flusher took but never settled to another flusher after claimAfter, and only then', async () => {
    const name = `claim${++serial}`
    // claimAfter is many times the two round trips between the take and the first claim attempt (a 300 ms one was
    // outrun by a loaded machine descheduling this process), and the claim is awaited by polling, not a fixed sleep.
    const CLAIM_AFTER = 1_000
    const dead = redisWriteQueue({ client: client(), prefix, name, consumer: 'dies', claimAfter: CLAIM_AFTER })
    const alive = redisWriteQueue({ client: client(), prefix, name, consumer: 'lives', claimAfter: CLAIM_AFTER })
    await dead.add([record('a', 1), record('b', 2)])
    const takenBefore = Date.now()
    expect((await dead.take(10, 0)).map((r) => r.key)).toEqual(['a', 'b'])
    expect(await alive.take(10, 0)).toEqual([])
    // The claim is judged by Redis's own clock (idle time of the pending entry, which starts after takenBefore).
    let claimed = await alive.take(10, 0)
    for (const end = Date.now() + 10_000; claimed.length === 0 && Date.now() < end; claimed = await alive.take(10, 0)) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(Date.now() - takenBefore).toBeGreaterThanOrEqual(CLAIM_AFTER - 5)
    expect(claimed.map((r) => [r.key, r.version])).toEqual([
      ['a', 1],
      ['b', 2],
    ])
    await alive.ack(claimed)
    expect(await alive.size()).toBe(0)
  })

  it('keeps retries in Redis until their time, whichever flusher takes them', async () => {
    const name = `retry${++serial}`
    const one = redisWriteQueue({ client: client(), prefix, name })
    const other = redisWriteQueue({ client: client(), prefix, name })
    await one.add([record('a', 1)])
    const [taken] = await one.take(1, 1_000)
    await one.retry({ ...(taken as NonNullable<typeof taken>), attempts: 2 }, 5_000)
    expect(await other.take(10, 4_999)).toEqual([])
    expect((await other.take(10, 5_000)).map((r) => [r.key, r.attempts])).toEqual([['a', 2]])
  })

  it('redrives dead letters with their values and versions intact (no round trip through Lua cjson)', async () => {
    const q = redisWriteQueue({ client: client(), prefix, name: `redrive${++serial}` })
    // cjson would turn [] into {}, and keep 14 significant digits of a number.
    const value = { items: [], nested: { tags: [] }, price: 0.30000000000000004, id: 1234567890123456 }
    const version = 1_796_400_000_123
    await q.add([{ key: 'cart', op: 'set', value, version, writtenAt: 1, attempts: 0 }])
    const [taken] = await q.take(1, 0)
    await q.deadLetter({ ...(taken as NonNullable<typeof taken>), attempts: 4 }, 'rejected', 5)
    expect(await q.redrive(6)).toBe(1)
    const [back] = await q.take(1, 6)
    expect(back).toMatchObject({ key: 'cart', op: 'set', value, version, writtenAt: 1, attempts: 0 })
    expect(back?.value).toEqual(value)
  })

  it('keeps field r a whole record, for flushers of the previous release during a rolling upgrade', async () => {
    const c = client()
    const name = `compat${++serial}`
    const q = redisWriteQueue({ client: c, prefix, name })
    // The previous release reads only field r (the first field).
    const fieldR = async (): Promise<unknown> => {
      const [[, fields] = ['', []]] = (await c.xrange(`${prefix}{wb:${name}}:stream`, '-', '+')) as [string, string[]][]
      expect(fields[0]).toBe('r')
      return JSON.parse(fields[1] as string)
    }
    const record = { key: 'cart', op: 'set' as const, value: [1], version: 1_700_000_000_000, writtenAt: 1, attempts: 0 }
    const [assigned] = await q.addVersioned!([record])
    expect(await fieldR()).toEqual(record) // with the writer's clock version, as that release wrote it
    const [taken] = await q.take(1, 0)
    await q.deadLetter({ ...(taken as NonNullable<typeof taken>), attempts: 2 }, 'rejected', 5)
    await q.redrive(6)
    expect(await fieldR()).toEqual({ ...record, version: assigned }) // a redriven letter: Redis's version, attempts 0
  })

  it('validates its options', () => {
    expect(() => redisWriteQueue({ client: {} as never })).toThrow(/options\.client must be an ioredis client/)
    expect(() => redisWriteQueue({ client: client(), name: 'a{b}' })).toThrow(/must not contain \{ or \}/)
    expect(() => redisWriteQueue({ client: client(), claimAfter: 0 })).toThrow(/options\.claimAfter/)
    // The package's own check let empty names through (XGROUP CREATE with an empty group name).
    expect(() => redisWriteQueue({ client: client(), group: '' })).toThrow(/options\.group must be a non-empty string/)
    expect(() => redisWriteQueue({ client: client(), consumer: '' })).toThrow(/options\.consumer must be a non-empty string/)
  })
})
