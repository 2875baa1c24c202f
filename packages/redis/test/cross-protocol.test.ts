import { createCache, memoryStore, type Entry, type Policy } from '@tiercache/core'
import { upstashCoordinator, upstashStore } from '@tiercache/edge'
import { Redis as Upstash } from '@upstash/redis'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { redisCoordinator, redisStore } from '../src/index.js'

// The Worker side: the real @upstash/redis client over HTTP, through testkit's Upstash endpoint. The server side:
// ioredis over TCP. Both reach the same redis-server (the endpoint sits in front of REDIS_URL).
let upstash: Upstash
let tcp: Redis
beforeAll(async () => {
  upstash = new Upstash({ url: inject('UPSTASH_TEST_URL'), token: inject('UPSTASH_TEST_TOKEN'), signal: () => AbortSignal.timeout(2_000) })
  tcp = new Redis(inject('REDIS_URL'), { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  await new Promise((resolve) => tcp.once('ready', resolve))
})
afterAll(async () => {
  await tcp?.quit()
})

let serial = 0
const ns = (): string => `x${process.pid}n${++serial}`

function entry(value: unknown, tags?: string[]): Entry {
  const t = Date.now()
  const e: Entry = { value, createdAt: t, freshUntil: t + 60_000, staleUntil: t + 90_000, errorUntil: t + 600_000, loadMs: 3 }
  if (tags !== undefined) e.tags = tags
  return e
}

describe('one database, two protocols: upstashStore (HTTP) and redisStore (TCP)', () => {
  it('an entry written by upstashStore is read by redisStore, every field intact, and the reverse', async () => {
    const edge = upstashStore({ redis: upstash })
    const server = redisStore({ client: tcp })
    const key = `${ns()}:product:1`
    const written = entry({ id: 1, name: 'Grüße 👋', price: 1_250 }, ['demo:product:1'])
    await edge.set(key, written)
    expect(await server.get(key)).toEqual(written)
    expect(await server.getMany?.([key, `${key}:missing`])).toEqual([written, undefined])

    const back = entry(['from', 'the', 'server'], ['demo:catalog'])
    await server.set(`${key}:b`, back)
    expect(await edge.get(`${key}:b`)).toEqual(back)
    await edge.delete(key)
    expect(await server.get(key)).toBeUndefined()
  })

  it('the same key names: the stored value is one string at <prefix><key>, expiring at the last servable moment', async () => {
    const key = `${ns()}:k`
    await redisStore({ client: tcp }).set(key, entry('v'))
    const ttl = await tcp.pttl(`tc:v:${key}`)
    expect(ttl).toBeGreaterThan(590_000)
    expect(ttl).toBeLessThanOrEqual(600_000)
    expect(await upstash.exists(`tc:v:${key}`)).toBe(1)
  })

  it('a cache on the server fills its L1 from what a Worker stored', async () => {
    const namespace = ns()
    const edgeCache = createCache({ tiers: [upstashStore({ redis: upstash })], namespace, policy: { ttl: '1m' } })
    await edgeCache.set('greeting', { text: 'hello from the edge' })
    const coordinator = redisCoordinator({ client: tcp, bus: false })
    const serverCache = createCache({ tiers: [memoryStore(), redisStore({ client: tcp, coordinator })], coordinator, namespace, policy: { ttl: '1m' } })
    let loads = 0
    expect(await serverCache.getOrSet('greeting', () => (++loads, { text: 'from the database' }))).toEqual({ text: 'hello from the edge' })
    expect(loads).toBe(0)
  })

  it("soft invalidation crosses protocols: a Worker's soft invalidation makes the server's entry stale, and the reverse", async () => {
    const namespace = ns()
    const policy: Policy = { ttl: '1m', swr: '1m', tags: ['prices'] }
    const edgeCoordinator = upstashCoordinator({ redis: upstash, tagCacheTtl: 1 })
    const edgeCache = createCache({ tiers: [memoryStore(), upstashStore({ redis: upstash, coordinator: edgeCoordinator })], coordinator: edgeCoordinator, namespace, policy })
    const coordinator = redisCoordinator({ client: tcp, bus: false, tagCacheTtl: 1 })
    const serverCache = createCache({ tiers: [memoryStore(), redisStore({ client: tcp, coordinator })], coordinator, namespace, policy })
    const stale: string[] = []
    serverCache.subscribe((e) => {
      if (e.type === 'stale') stale.push(e.key)
    })
    let loads = 0
    const load = (): string => `v${++loads}`
    expect(await serverCache.getOrSet('p', load)).toBe('v1')
    await serverCache.idle()
    await new Promise((resolve) => setTimeout(resolve, 2))
    await edgeCache.invalidateTags(['prices'], { mode: 'soft' })
    await new Promise((resolve) => setTimeout(resolve, 2))
    // Stale, not dead: the old value at once, one refresh in the background.
    expect(await serverCache.getOrSet('p', load)).toBe('v1')
    expect(stale).toEqual(['p'])
    await serverCache.idle()
    expect(loads).toBe(2)
    // The Worker reads the refreshed entry; the server's soft invalidation makes the Worker's copy stale in turn.
    expect(await edgeCache.getOrSet('p', load)).toBe('v2')
    await new Promise((resolve) => setTimeout(resolve, 2))
    const edgeStale: string[] = []
    edgeCache.subscribe((e) => {
      if (e.type === 'stale') edgeStale.push(e.key)
    })
    await serverCache.invalidateTags(['prices'], { mode: 'soft' })
    await new Promise((resolve) => setTimeout(resolve, 2))
    expect(await edgeCache.getOrSet('p', load)).toBe('v2')
    expect(edgeStale).toEqual(['p'])
    await edgeCache.idle()
    expect(loads).toBe(3)
    expect(await edgeCache.getOrSet('p', load)).toBe('v3')
    coordinator.close()
  })

  describe("a Worker waiting on an origin server's lock (upstashCoordinator waiter, redisCoordinator holder)", () => {
    /** A Worker isolate (upstash L2 linked to its coordinator) and a server cache, on one namespace. */
    function pair(): { worker: ReturnType<typeof createCache>; server: ReturnType<typeof createCache>; lockKey: string; close(): void } {
      const namespace = ns()
      const edgeCoordinator = upstashCoordinator({ redis: upstash })
      const worker = createCache({ tiers: [memoryStore(), upstashStore({ redis: upstash, coordinator: edgeCoordinator })], coordinator: edgeCoordinator, namespace, lockWait: '8s', policy: { ttl: '1m', tags: ['t'] } })
      const coordinator = redisCoordinator({ client: tcp, bus: false })
      const server = createCache({ tiers: [memoryStore(), redisStore({ client: tcp, coordinator })], coordinator, namespace, lockWait: '8s', policy: { ttl: '1m', tags: ['t'] } })
      return { worker, server, lockKey: `tc:lock:${namespace}:k`, close: () => coordinator.close() }
    }

    /** Waits until the server holds the lock and the Worker registered as its waiter. */
    async function workerWaiting(lockKey: string): Promise<void> {
      const deadline = Date.now() + 10_000
      for (;;) {
        const token = await tcp.get(lockKey)
        if (token !== null && Number(await tcp.get(`tc:wait:${token}:n`)) >= 1) return
        if (Date.now() > deadline) throw new Error('the Worker never registered as a waiter of the server lock')
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }

    it("gets the server's entry as soon as the server's load ends, not after lockWait (8 s)", async () => {
      const { worker, server, lockKey, close } = pair()
      let open!: () => void
      const gate = new Promise<void>((resolve) => (open = resolve))
      const serving = server.getOrSet('k', async () => {
        await gate
        return 'from the server'
      })
      let workerLoads = 0
      await expect.poll(() => tcp.exists(lockKey), { timeout: 10_000 }).toBe(1)
      const waiting = worker.getOrSet('k', () => (++workerLoads, 'from the worker'))
      await workerWaiting(lockKey)
      const opened = Date.now()
      open()
      expect(await serving).toBe('from the server')
      expect(await waiting).toBe('from the server')
      const waitedMs = Date.now() - opened
      console.log(`[hand-over] Worker answered ${waitedMs} ms after the server's load ended (lockWait 8000 ms)`)
      expect(workerLoads).toBe(0)
      expect(waitedMs).toBeLessThan(4_000)
      await server.idle()
      expect(await tcp.exists(lockKey)).toBe(0)
      close()
    })

    it('loads at once when the server releases without an entry (its load failed)', async () => {
      const { worker, server, lockKey, close } = pair()
      let fail!: () => void
      const gate = new Promise<void>((resolve) => (fail = resolve))
      const serving = server.getOrSet('k', async () => {
        await gate
        throw new Error('database down')
      })
      serving.catch(() => undefined)
      await expect.poll(() => tcp.exists(lockKey), { timeout: 10_000 }).toBe(1)
      const waiting = worker.getOrSet('k', () => 'from the worker')
      await workerWaiting(lockKey)
      const released = Date.now()
      fail()
      await expect(serving).rejects.toThrow('database down')
      expect(await waiting).toBe('from the worker')
      expect(Date.now() - released).toBeLessThan(4_000)
      close()
    })
  })
})
