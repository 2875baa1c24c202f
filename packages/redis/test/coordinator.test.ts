import { createCache, memoryStore, type Cache, type Duration, type Policy, type Store } from '@tiercache/core'
import { redisLayout } from '@tiercache/core/redis'
import { startRedisCluster, startTcpProxy, type RedisCluster, type TcpProxy } from '@tiercache/testkit'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it, inject } from 'vitest'
import { redisCoordinator, redisStore, type BusEvent, type RedisCoordinator } from '../src/index.js'

type AnyClient = Redis | InstanceType<typeof Redis.Cluster>
const opened: { close(): void }[] = []
const clients: AnyClient[] = []
afterEach(() => {
  for (const c of opened.splice(0)) c.close()
})
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit().catch(() => undefined)))
})

/** A client without an offline queue (as the README advises), once connected. */
async function single(url = inject('REDIS_URL')): Promise<Redis> {
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  client.on('error', () => {})
  clients.push(client)
  await new Promise((resolve) => client.once('ready', resolve))
  return client
}

/** The tier that answers `key` from `cache` (0 = L1), or undefined for a miss. */
async function answeredBy(cache: Cache, key: string): Promise<number | undefined> {
  let tier: number | undefined
  const stop = cache.subscribe((e) => {
    if ((e.type === 'hit' || e.type === 'stale') && e.key === key) tier = e.tierIndex
  })
  try {
    await cache.get(key)
  } finally {
    stop()
  }
  return tier
}

interface Server {
  cache: Cache
  coordinator: RedisCoordinator
  l1: Store
  events: BusEvent[]
}

/** One "server": its own clients, L1, coordinator with a bus, and cache, on a shared prefix. */
async function server(prefix: string, given?: AnyClient, heartbeat: Duration = '1s'): Promise<Server> {
  const client = given ?? (await single())
  const l1 = memoryStore({ maxEntries: 1_000 })
  const events: BusEvent[] = []
  const coordinator = redisCoordinator({ client, prefix, bus: { local: [l1], heartbeat, onEvent: (e) => events.push(e) } })
  opened.push(coordinator)
  const cache = createCache({
    tiers: [l1, redisStore({ client, coordinator, prefix: `${prefix}v:` })],
    coordinator,
    policy: { ttl: '1m' },
  })
  await expect.poll(() => coordinator.bus?.up, { timeout: 5_000 }).toBe(true)
  return { cache, coordinator, l1, events }
}

let serial = 0
const prefix = (): string => `co${process.pid}x${++serial}:`

describe('redisCoordinator on one redis-server', () => {
  it('writes the shared layout: the stamp and tag keys under {tags}, stamps from Redis, only growing', async () => {
    const p = prefix()
    const client = await single()
    const a = await server(p, client)
    const before = Date.now()
    await a.cache.invalidateTags(['x', 'y'])
    const layout = redisLayout(p)
    // Tags are stored namespaced by core: find them under the layout's tag prefix.
    const tagKeys = (await client.keys(`${layout.tagPrefix}*`)).sort()
    expect(tagKeys).toHaveLength(2)
    expect(tagKeys[0]?.endsWith('x')).toBe(true)
    expect(tagKeys[1]?.endsWith('y')).toBe(true)
    const [stamp, x, y] = await client.mget(layout.stampKey, ...tagKeys)
    expect(Number(stamp)).toBeGreaterThanOrEqual(before - 1_000)
    expect(x).toBe(stamp)
    expect(y).toBe(stamp)
    expect(a.coordinator.stamp()).toBe(Number(stamp))
    expect(await client.pttl(tagKeys[0] as string)).toBeGreaterThan(29 * 86_400_000)
    await a.cache.invalidateTags(['x'])
    expect(Number(await client.get(tagKeys[0] as string))).toBeGreaterThan(Number(stamp))
  })

  it('a tag invalidated on one server stops every other server from serving, through the bus, in milliseconds', async () => {
    const p = prefix()
    const [a, b, c] = await Promise.all([server(p), server(p), server(p)])
    let loads = 0
    const load = (): string => `v${++loads}`
    for (const s of [a, b, c]) {
      await s.cache.getOrSet('item', load, { ttl: '1m', tags: ['t'] })
      await s.cache.idle()
    }
    expect(loads).toBe(1)
    // b and c know tag t (read when they checked the entry): without the bus they would trust it for 5 s.
    await a.cache.invalidateTags(['t'])
    await expect.poll(() => b.events.some((e) => e.type === 'tags')).toBe(true)
    await expect.poll(() => c.events.some((e) => e.type === 'tags')).toBe(true)
    expect(await b.cache.getOrSet('item', load, { ttl: '1m', tags: ['t'] })).toBe('v2')
    await b.cache.idle()
    expect(await c.cache.getOrSet('item', load, { ttl: '1m', tags: ['t'] })).toBe('v2')
    const delays = [b, c].flatMap((s) => s.events.filter((e) => e.type === 'tags').map((e) => (e as { delayMs: number }).delayMs))
    expect(Math.max(...delays)).toBeLessThan(1_000)
  })

  it('a set or load that starts while its own invalidation is being written records the stamp after it: its entry lives on, here and on another server', async () => {
    const p = prefix()
    const client = await single()
    // Redis runs the invalidation; its answer is held (a slow network) until the set and the load have asked for
    // their stamp. With the stamp from before the invalidation, both entries die once that answer lands.
    let answer: () => void = () => {}
    const answered = new Promise<void>((resolve) => (answer = resolve))
    let holding = false
    const pipeline = client.pipeline.bind(client)
    client.pipeline = ((...args: Parameters<Redis['pipeline']>) => {
      const made = pipeline(...args)
      if (!holding) return made
      holding = false
      const exec = made.exec.bind(made)
      made.exec = (async () => {
        const results = await exec()
        await answered
        return results
      }) as typeof made.exec
      return made
    }) as Redis['pipeline']
    const a = await server(p, client)
    let asked = 0
    const stamp = a.coordinator.stamp.bind(a.coordinator)
    a.coordinator.stamp = () => (asked++, stamp())
    const policy: Policy = { ttl: '1h', tags: ['products'] }
    await a.cache.invalidateTags(['other'])
    asked = 0
    holding = true
    const invalidation = a.cache.invalidateTags(['products'])
    const set = a.cache.set('p:1', 'shoe v2', policy)
    let loads = 0
    const load = (): string => `hat v${++loads}`
    const loaded = a.cache.getOrSet('p:2', load, policy)
    await expect.poll(() => asked, { timeout: 10_000 }).toBe(2)
    answer()
    await Promise.all([invalidation, set, loaded])
    expect(await a.cache.get('p:1')).toBe('shoe v2')
    expect(await a.cache.getOrSet('p:2', load, policy)).toBe('hat v1')
    expect(loads).toBe(1)
    await a.cache.idle()
    const b = await server(p)
    expect(await b.cache.get('p:1')).toBe('shoe v2')
    expect(await b.cache.get('p:2')).toBe('hat v1')
  })

  it('a set or delete on one server drops the key from the L1 of the others', async () => {
    const p = prefix()
    const [a, b] = await Promise.all([server(p), server(p)])
    await a.cache.set('k', 'one')
    expect(await b.cache.get('k')).toBe('one')
    expect(await answeredBy(b.cache, 'k')).toBe(0) // now in b's L1
    await a.cache.set('k', 'two')
    await expect.poll(() => b.events.some((e) => e.type === 'keys')).toBe(true)
    expect(await answeredBy(b.cache, 'k')).toBe(1) // dropped from b's L1: read from Redis
    expect(await b.cache.get('k')).toBe('two')
    await a.cache.delete('k')
    await expect.poll(() => b.cache.get('k')).toBeUndefined()
    // a's own L1 is not touched by its own messages.
    await a.cache.set('own', 'mine')
    await b.cache.get('own')
    expect(await answeredBy(a.cache, 'own')).toBe(0)
  })

  it('without the bus, another server sees an invalidation within tagCacheTtl', async () => {
    const p = prefix()
    let t = Date.now()
    const now = (): number => t
    const make = async (): Promise<Cache> => {
      const client = await single()
      const coordinator = redisCoordinator({ client, prefix: p, bus: false, tagCacheTtl: '5s', now })
      return createCache({ tiers: [memoryStore(), redisStore({ client, coordinator, prefix: `${p}v:`, now })], coordinator, now, policy: { ttl: '1h' } })
    }
    const a = await make()
    const b = await make()
    let loads = 0
    await b.getOrSet('x', () => ++loads, { tags: ['t'] })
    expect(await b.getOrSet('x', () => ++loads, { tags: ['t'] })).toBe(1) // b has now read the stamp of t
    await a.invalidateTags(['t'])
    t += 4_999 // b still trusts what it read about t
    expect(await b.getOrSet('x', () => ++loads, { tags: ['t'] })).toBe(1)
    t += 1
    expect(await b.getOrSet('x', () => ++loads, { tags: ['t'] })).toBe(2)
  })

  it('soft invalidation: other servers serve the entry stale once (bus), one refresh loads; soft and hard records read in one MGET', async () => {
    const p = prefix()
    const [a, b] = await Promise.all([server(p), server(p)])
    expect(a.coordinator.softRecords).toBe(true)
    const policy: Policy = { ttl: '1m', swr: '1m', tags: ['t'] }
    let loads = 0
    const load = (): string => `v${++loads}`
    expect(await a.cache.getOrSet('item', load, policy)).toBe('v1')
    await a.cache.idle()
    expect(await b.cache.getOrSet('item', load, policy)).toBe('v1')
    await b.cache.idle()
    await a.cache.invalidateTags(['t'], { mode: 'soft' })
    const layout = redisLayout(p)
    expect((await (await single()).keys(`${layout.tagPrefix}*`)).map((k) => k.slice(layout.tagPrefix.length))).toEqual(['%soft::t'])
    await expect.poll(() => b.events.some((e) => e.type === 'tags')).toBe(true)
    const stale: string[] = []
    const stop = b.cache.subscribe((e) => {
      if (e.type === 'stale') stale.push(e.key)
    })
    expect(await b.cache.getOrSet('item', load, policy)).toBe('v1')
    await b.cache.idle()
    stop()
    expect(stale).toEqual(['item'])
    expect(loads).toBe(2)
    expect(await b.cache.getOrSet('item', load, policy)).toBe('v2')
    // A server that never read the tag asks for it and its soft record with one MGET (stamp, tag, soft record).
    const client = await single()
    const mgets: number[] = []
    const mget = client.mget.bind(client) as (...keys: string[]) => Promise<(string | null)[]>
    ;(client as unknown as { mget: (...keys: string[]) => Promise<(string | null)[]> }).mget = (...keys: string[]) => {
      mgets.push(keys.length)
      return mget(...keys)
    }
    const coordinator = redisCoordinator({ client, prefix: p, bus: false })
    const c = createCache({ tiers: [memoryStore(), redisStore({ client, coordinator, prefix: `${p}v:` })], coordinator, policy })
    expect(await c.getOrSet('item', load, policy)).toBe('v2')
    expect(mgets).toEqual([3])
  })

  it('locks: one holder at a time, released only by its holder (compare-and-delete)', async () => {
    const p = prefix()
    const one = redisCoordinator({ client: await single(), prefix: p, bus: false })
    const two = redisCoordinator({ client: await single(), prefix: p, bus: false })
    const held = await one.lock?.('k', 5_000)
    expect(held).toBeDefined()
    expect(await two.lock?.('k', 5_000)).toBeUndefined()
    await held?.release()
    const next = await two.lock?.('k', 5_000)
    expect(next).toBeDefined()
    await held?.release() // a stale holder cannot release the new holder's lock
    expect(await one.lock?.('k', 5_000)).toBeUndefined()
    await next?.release()
  })

  it('locks expire after their ttl', async () => {
    const p = prefix()
    const one = redisCoordinator({ client: await single(), prefix: p, bus: false })
    expect(await one.lock?.('k', 50)).toBeDefined()
    await expect.poll(async () => (await one.lock?.('k', 50)) !== undefined, { interval: 20 }).toBe(true)
  })

  it('the bus notices a gap (connection dropped), then clears the local tiers and reads tag stamps again', async () => {
    const proxy: TcpProxy = await startTcpProxy({ targetPort: Number(new URL(inject('REDIS_URL')).port) })
    try {
      const p = prefix()
      const client = await single(proxy.url)
      const a = await server(p, client, 100)
      await a.cache.set('kept', 'v')
      expect(await answeredBy(a.cache, 'kept')).toBe(0)
      proxy.setMode('blackhole')
      await expect.poll(() => a.events.some((e) => e.type === 'down'), { timeout: 5_000 }).toBe(true)
      proxy.setMode('pass')
      proxy.dropConnections()
      await expect.poll(() => a.events.some((e) => e.type === 'up' && e.gap), { timeout: 10_000 }).toBe(true)
      // L1 was cleared: the value now comes from Redis.
      expect(await answeredBy(a.cache, 'kept')).toBe(1)
    } finally {
      await proxy.stop()
    }
  })

  it('without a breaker, a call Redis does not answer fails after options.timeout (kit withDeadline)', async () => {
    const proxy: TcpProxy = await startTcpProxy({ targetPort: Number(new URL(inject('REDIS_URL')).port) })
    try {
      const coordinator = redisCoordinator({ client: await single(proxy.url), prefix: prefix(), bus: false, breaker: false, timeout: 100 })
      proxy.setMode('blackhole')
      await expect(coordinator.invalidateTags(['t'])).rejects.toThrow(/invalidateTags got no answer from Redis within 100 ms/)
    } finally {
      await proxy.stop()
    }
  })

  it('checks its options', async () => {
    const client = await single()
    expect(() => redisCoordinator(undefined as never)).toThrow(TypeError)
    expect(() => redisCoordinator({ client: {} as never })).toThrow(/options.client must be an ioredis client/)
    expect(() => redisCoordinator({ client, prefix: 'a{b}' })).toThrow(/must not contain/)
    expect(() => redisCoordinator({ client, bus: { local: [1 as never] } })).toThrow(/options.bus.local/)
    expect(() => redisCoordinator({ client, bus: { heartbeat: 0 } })).toThrow(/options.bus.heartbeat/)
    expect(() => redisCoordinator({ client, tagTtl: 0 })).toThrow(/options.tagTtl/)
    expect(() => redisCoordinator({ client, maxTags: 0 })).toThrow(/options.maxTags/)
    expect(() => redisCoordinator({ client, bus: { channel: '' } })).toThrow(/options\.bus\.channel must be a non-empty string/)
  })
})

describe('redisCoordinator on a 3-node Cluster', () => {
  let cluster: RedisCluster
  const cl = async (): Promise<InstanceType<typeof Redis.Cluster>> => {
    const client = new Redis.Cluster(cluster.startupNodes, { enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 1 } })
    client.on('error', () => {})
    clients.push(client)
    await new Promise((resolve) => client.once('ready', resolve))
    return client
  }
  beforeAll(async () => {
    cluster = await startRedisCluster()
  })
  afterAll(async () => {
    for (const c of opened.splice(0)) c.close()
    await cluster?.stop()
  })

  it('invalidates tags atomically in the {tags} slot, locks, and carries the bus between servers', async () => {
    const p = prefix()
    const [a, b] = await Promise.all([server(p, await cl()), server(p, await cl())])
    let loads = 0
    await a.cache.getOrSet('x', () => ++loads, { tags: ['t'] })
    await a.cache.idle()
    expect(await b.cache.getOrSet('x', () => ++loads, { tags: ['t'] })).toBe(1)
    await a.cache.invalidateTags(['t', 'u', 'v'])
    await expect.poll(() => b.events.some((e) => e.type === 'tags')).toBe(true)
    expect(await b.cache.getOrSet('x', () => ++loads, { tags: ['t'] })).toBe(2)
    await a.cache.set('k', 'one')
    expect(await b.cache.get('k')).toBe('one')
    await a.cache.set('k', 'two')
    await expect.poll(() => b.cache.get('k')).toBe('two')
    const held = await a.coordinator.lock?.('k', 5_000)
    expect(held).toBeDefined()
    expect(await b.coordinator.lock?.('k', 5_000)).toBeUndefined()
    await held?.release()
  })
})
