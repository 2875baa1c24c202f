// Sliding expiry over a real redis-server: a read extends the session in Redis too (another server reading Redis
// sees it alive), the touches of one turn in one pipeline, never past maxAge; an unread session ends on time. With
// Redis as the only tier, reads that find the old entry while its touch is on its way do not touch it again.
import { createCache, memoryStore, slidingExpiry } from '@tiercache/core'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it, vi } from 'vitest'
import { redisStore } from '../src/index.js'

const prefix = `sl${process.pid}:`
let client: Redis | undefined

afterAll(async () => {
  if (client === undefined) return
  const keys = await client.keys(`${prefix}*`)
  if (keys.length > 0) await client.del(...keys)
  await client.quit()
})

describe('sliding expiry with redisStore', () => {
  it('a read moves the session on in Redis, one pipeline per turn of reads, never past maxAge', async () => {
    client = new Redis(inject('REDIS_URL'), { maxRetriesPerRequest: 1 })
    const started = Date.now()
    let t = started
    const now = (): number => t
    const cacheClient = new Redis(inject('REDIS_URL'), { maxRetriesPerRequest: 1 })
    const pipelines = vi.spyOn(cacheClient, 'pipeline')
    try {
      const cache = createCache({
        tiers: [memoryStore(), redisStore({ client: cacheClient, prefix: `${prefix}v:`, now })],
        strategies: [slidingExpiry()],
        policy: { ttl: '30m', sliding: true, maxAge: '2h' },
        now,
      })
      let logins = 0
      const login = ({ key }: { key: string }) => ({ user: key, login: ++logins })
      const sessions = Array.from({ length: 20 }, (_, i) => `session:${i}`)
      await Promise.all(sessions.map((key) => cache.getOrSet(key, login)))
      await cache.idle()
      expect(await client.keys(`${prefix}v:*`)).toHaveLength(20)

      // 20 minutes later, sessions 0..18 are read in one turn; session 19 is not (the control).
      t = started + 20 * 60_000
      pipelines.mockClear()
      await Promise.all(sessions.slice(0, 19).map((key) => cache.getOrSet(key, login)))
      await cache.idle()
      expect(pipelines).toHaveBeenCalledTimes(1) // the 19 touches went out together (L1 answered the reads)

      // Another server, reading Redis alone at 45 min: the touched sessions live there until 50 min, the other
      // ended at 30 min.
      const reader = createCache({ tiers: [redisStore({ client: cacheClient, prefix: `${prefix}v:`, now })], policy: { ttl: '30m' }, now })
      t = started + 45 * 60_000
      for (const key of sessions.slice(0, 19)) expect(await reader.get(key)).toMatchObject({ user: key })
      expect(await reader.get('session:19')).toBeUndefined()

      // Read every 20 minutes from then on: session 19 logs in again at once, the others only when maxAge (2 h
      // after their login) ends them, at 125 min.
      for (let m = 45; m <= 105; m += 20) {
        t = started + m * 60_000
        await Promise.all(sessions.map((key) => cache.getOrSet(key, login)))
        await cache.idle()
        expect(logins).toBe(21)
      }
      t = started + 125 * 60_000
      await Promise.all(sessions.map((key) => cache.getOrSet(key, login)))
      expect(logins).toBe(40)
    } finally {
      await cacheClient.quit()
    }
  })

  it('with Redis as the only tier, reads that still find the old entry while its touch is on its way touch it once per tenth of the ttl', async () => {
    const started = Date.now()
    let t = started
    const now = (): number => t
    const cacheClient = new Redis(inject('REDIS_URL'), { maxRetriesPerRequest: 1 })
    const readerClient = new Redis(inject('REDIS_URL'), { maxRetriesPerRequest: 1 })
    try {
      const store = redisStore({ client: cacheClient, prefix: `${prefix}only:`, now })
      const cache = createCache({ tiers: [store], strategies: [slidingExpiry()], policy: { ttl: '30m', sliding: true, maxAge: '2h' }, now, tierTimeout: '1m' })
      await cache.set('session:ada', { user: 'ada' })
      // From here every write to Redis (a pipeline) is held until `release`: the reads below keep finding the entry
      // as set wrote it, fresh until 30 min, as they would while a slow touch is on its way.
      let release!: () => void
      const released = new Promise<void>((resolve) => (release = resolve))
      const pipeline = cacheClient.pipeline.bind(cacheClient)
      let writes = 0
      vi.spyOn(cacheClient, 'pipeline').mockImplementation((...args) => {
        writes++
        const held = pipeline(...args)
        const exec = held.exec.bind(held)
        held.exec = (async (...execArgs: Parameters<typeof exec>) => {
          await released
          return exec(...execArgs)
        }) as typeof held.exec
        return held
      })
      const read = async (): Promise<void> => {
        expect(await cache.get('session:ada')).toEqual({ user: 'ada' })
        await new Promise<void>((resolve) => setImmediate(resolve)) // the next read in a turn of its own
      }
      t = started + 10 * 60_000
      for (let i = 0; i < 50; i++) await read()
      expect(writes).toBe(1)
      // Past a tenth of the ttl (3 min) after that touch: one more.
      t = started + 13 * 60_000
      for (let i = 0; i < 50; i++) await read()
      expect(writes).toBe(2)
      release()
      await cache.idle()
      // Redis now holds the session until 43 min: another server reads it at 40.
      const reader = createCache({ tiers: [redisStore({ client: readerClient, prefix: `${prefix}only:`, now })], policy: { ttl: '30m' }, now })
      t = started + 40 * 60_000
      expect(await reader.get('session:ada')).toEqual({ user: 'ada' })
    } finally {
      await cacheClient.quit()
      await readerClient.quit()
    }
  })
})
