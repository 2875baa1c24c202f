// withConsistentWrites across servers on a real redis-server: two caches, each with its own client and L1, sharing
// a redisStore and a redisCoordinator's stamps (bus off: the key's tag stamp alone must do it). A load that read the
// old row before another server's write stores it in its L1 and in Redis afterwards; no server serves it.
import { createCache, memoryStore, withConsistentWrites, type Cache } from '@tiercache/core'
import type { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { redisCoordinator, redisStore } from '../src/index.js'
import { redisClients } from './fixtures/redis-clients.js'

const prefix = `cw${process.pid}:`
const redis = redisClients(prefix)

async function server(consistent: boolean): Promise<{ cache: Cache; client: Redis }> {
  const client = redis({ enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  await new Promise((resolve) => client.once('ready', resolve))
  const coordinator = redisCoordinator({ client, prefix, bus: false })
  const cache = createCache({
    tiers: [memoryStore(), redisStore({ client, coordinator, prefix: `${prefix}v:` })],
    coordinator,
    policy: { ttl: '1m' },
  })
  return { cache: consistent ? withConsistentWrites(cache) : cache, client }
}

/** B's load reads the row, A writes the new one, then B's load stores the row it read. */
async function race(key: string, consistent: boolean) {
  const a = await server(consistent)
  const b = await server(consistent)
  const db = new Map([[key, 'old']])
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => (release = resolve))
  let read: () => void = () => {}
  const wasRead = new Promise<void>((resolve) => (read = resolve))
  const slow = b.cache.getOrSet(key, async () => {
    const row = db.get(key)
    read()
    await held
    return row
  })
  await wasRead
  await a.cache.write(key, 'new', (value) => void db.set(key, value))
  release()
  const answered = await slow
  await Promise.all([a.cache.idle(), b.cache.idle()])
  const stored = await a.client.get(`${prefix}v::${key}`)
  const load = async () => db.get(key) ?? null
  return {
    answered,
    stored,
    served: [await b.cache.get(key), await b.cache.getOrSet(key, load), await a.cache.get(key), await a.cache.getOrSet(key, load)],
  }
}

describe('withConsistentWrites with redisCoordinator and redisStore', () => {
  it('a load that read the old row before another server wrote leaves it served nowhere', async () => {
    const r = await race('product:1', true)
    expect(r.answered).toBe('old') // its caller asked before the write
    expect(r.stored).toContain('"old"') // the old row did land in Redis: dead on read
    expect(r.served).toEqual([undefined, 'new', 'new', 'new'])
  })

  it('without it, the same race leaves the old row in B and in Redis (for every server A did not warm itself)', async () => {
    const r = await race('product:2', false)
    expect(r.stored).toContain('"old"')
    expect(r.served).toEqual(['old', 'old', 'new', 'new'])
  })
})
