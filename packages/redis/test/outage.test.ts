import { createCache, memoryStore, type CacheEvent } from '@tiercache/core'
import { startRedis, startRedisCluster, type RedisServer } from '@tiercache/testkit'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { redisCoordinator, redisStore, type BusEvent } from '../src/index.js'

/** The options the README gives: no offline queue, one retry, quick reconnects. */
const clientOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  connectTimeout: 500,
  retryStrategy: (times: number) => Math.min(times * 50, 500),
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number
}

const stops: (() => Promise<void> | void)[] = []
afterAll(async () => {
  for (const stop of stops.reverse()) await stop()
})

describe('redis-server killed mid-run, then restarted', () => {
  it('zero failed requests, latency bounded by tierTimeout, L2 and the bus back within seconds', async () => {
    let redis: RedisServer = await startRedis()
    const port = redis.port
    stops.push(() => redis.stop())
    const client = new Redis(redis.url, clientOptions)
    client.on('error', () => {})
    stops.push(() => client.disconnect())
    await new Promise((resolve) => client.once('ready', resolve))
    const bus: BusEvent[] = []
    // L1 keeps entries 100 ms, so that most requests reach Redis; the loader is the database, 2 ms a call.
    const l1 = memoryStore({ maxEntries: 1_000, maxTtl: '100ms' })
    const coordinator = redisCoordinator({ client, bus: { local: [l1], heartbeat: '200ms', onEvent: (e) => bus.push(e) } })
    stops.push(() => coordinator.close())
    const tierTimeout = 200
    let l2Hits = 0
    const cache = createCache({
      tiers: [l1, redisStore({ client, coordinator })],
      coordinator,
      policy: { ttl: '10s' },
      tierTimeout,
      lockWait: '100ms',
      onEvent: (e: CacheEvent) => {
        if (e.type === 'hit' && e.tierIndex === 1) l2Hits++
      },
    })
    await expect.poll(() => coordinator.bus?.up).toBe(true)

    let failures = 0
    let requests = 0
    const latencies: number[] = []
    let running = true
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; running; i++) {
        const key = `item:${(w * 7 + i) % 50}`
        const started = performance.now()
        try {
          const value = await cache.getOrSet(key, async () => {
            await new Promise((resolve) => setTimeout(resolve, 2))
            return { key }
          })
          if ((value as { key: string } | null)?.key !== key) failures++
        } catch {
          failures++
        }
        requests++
        latencies.push(performance.now() - started)
        // About 2,000 requests a second in all: enough to see every phase, not enough to starve a shared machine.
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
    const workers = Array.from({ length: 10 }, (_, w) => worker(w))
    const phase = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

    await phase(800)
    const hitsBefore = l2Hits
    expect(hitsBefore).toBeGreaterThan(0)
    await redis.stop()
    const killedAt = performance.now()
    // Down for 3 s: a request that waited for Redis to come back would take seconds, above the bound below.
    await phase(3_000)
    const duringLatencies = latencies.slice(-200)
    redis = await startRedis({ port })
    const restartedAt = performance.now()
    const hitsAtRestart = l2Hits
    // Recovered: Redis answers reads again (L2 hits grow) and the bus is up.
    await expect.poll(() => l2Hits > hitsAtRestart + 20 && coordinator.bus?.up === true, { timeout: 20_000, interval: 20 }).toBe(true)
    const recoveryMs = performance.now() - restartedAt
    running = false
    await Promise.all(workers)
    await cache.idle()

    const p99 = percentile(latencies, 99)
    const max = latencies.reduce((a, b) => (b > a ? b : a), 0)
    console.log(
      `[outage] ${requests} requests, ${failures} failed; p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, ` +
        `max ${max.toFixed(0)} ms (tierTimeout ${tierTimeout} ms); down ${(restartedAt - killedAt).toFixed(0)} ms, ` +
        `p99 while down ${percentile(duringLatencies, 99).toFixed(1)} ms; recovered ${recoveryMs.toFixed(0)} ms after restart; ` +
        `bus: ${bus.filter((e) => e.type === 'down').length} down, ${bus.filter((e) => e.type === 'up').length} up`,
    )
    expect(failures).toBe(0)
    expect(requests).toBeGreaterThan(500)
    // A request waits at most for L2 (tierTimeout), the coordinator (lockWait 100 ms) and the loader: about 400 ms. The
    // bound is 6x that and under the 3 s outage: one stall of this process delays the 10 requests in flight at once,
    // and took the max to 753 ms at load 9 against the former 1,600 ms bound (a 1.5 s outage left no room between).
    expect(max).toBeLessThan(2_500)
    expect(bus.some((e) => e.type === 'down')).toBe(true)
    expect(bus.some((e) => e.type === 'up' && e.gap)).toBe(true)
    expect(recoveryMs).toBeLessThan(15_000)
  }, 60_000)

  it('unreachable at start-up: requests are answered by the loader at once, and Redis is used once it is there', async () => {
    const { getFreePort } = await import('@tiercache/testkit')
    const port = await getFreePort()
    const client = new Redis(`redis://127.0.0.1:${port}`, clientOptions)
    client.on('error', () => {})
    stops.push(() => client.disconnect())
    const coordinator = redisCoordinator({ client, bus: { heartbeat: '200ms' } })
    stops.push(() => coordinator.close())
    const cache = createCache({ tiers: [memoryStore({ maxEntries: 1 }), redisStore({ client, coordinator })], coordinator, policy: { ttl: '1m' }, tierTimeout: 200 })
    const started = performance.now()
    for (let i = 0; i < 20; i++) expect(await cache.getOrSet(`k${i}`, () => i)).toBe(i)
    expect(performance.now() - started).toBeLessThan(20 * 200)
    const redis = await startRedis({ port })
    stops.push(() => redis.stop())
    await expect.poll(() => coordinator.bus?.up, { timeout: 15_000 }).toBe(true)
    await expect
      .poll(async () => {
        await cache.set('there', 'yes')
        // The stored key is the store's prefix + core's namespaced key.
        const [stored] = await client.keys('tc:v:*there').catch(() => [] as string[])
        return stored === undefined ? null : client.get(stored)
      }, { timeout: 15_000 })
      .toContain('yes')
  }, 40_000)
})

describe('a Cluster node down', () => {
  it('keys on the other nodes are still Redis hits; keys on the dead node are misses answered by the loader, fast once its circuit is open', async () => {
    const cluster = await startRedisCluster()
    stops.push(() => cluster.stop())
    const client = new Redis.Cluster(cluster.startupNodes, { enableOfflineQueue: false, redisOptions: { ...clientOptions } })
    client.on('error', () => {})
    stops.push(() => client.disconnect())
    await new Promise((resolve) => client.once('ready', resolve))
    const nodeErrors: string[] = []
    // Cooldown an hour: once open, the dead node's circuit stays open for the rest of the test (no probe).
    const store = redisStore({ client, breaker: { failures: 2, cooldown: '1h' }, onError: (e) => nodeErrors.push(e.message) })
    const tierHits: number[] = []
    const cache = createCache({
      // Redis alone: every answer that is not loaded comes from it.
      tiers: [store],
      policy: { ttl: '1m' },
      tierTimeout: 300,
      onEvent: (e) => {
        if (e.type === 'hit') tierHits.push(1)
      },
    })
    const keys = Array.from({ length: 30 }, (_, i) => `node-down:${i}`)
    await cache.getManyOrSet(keys, (missing) => missing.map((k) => `loaded ${k}`))
    await cache.idle()
    // Where each key lives: asked of each master (the stored key is the store's prefix + core's namespaced key).
    const owners = new Map<string, (typeof cluster.nodes)[number]>()
    for (const node of cluster.nodes) {
      const direct = new Redis(node.port, '127.0.0.1')
      for (const stored of await direct.keys('tc:v:*node-down:*')) {
        const key = keys.find((k) => stored.endsWith(`:${k}`))
        if (key !== undefined) owners.set(key, node)
      }
      direct.disconnect()
    }
    expect(owners.size).toBe(keys.length)
    const victim = owners.get(keys[0] as string) as (typeof cluster.nodes)[number]
    const onVictim = keys.filter((k) => owners.get(k) === victim)
    const elsewhere = keys.filter((k) => owners.get(k) !== victim)
    expect(onVictim.length).toBeGreaterThan(0)
    expect(elsewhere.length).toBeGreaterThan(0)
    await victim.stop()

    let loaded: string[] = []
    const times: number[] = []
    const errorsBefore: number[] = []
    for (let round = 0; round < 4; round++) {
      loaded = []
      errorsBefore.push(nodeErrors.length)
      const started = performance.now()
      const values = await cache.getManyOrSet(keys, (missing) => {
        loaded.push(...missing)
        return missing.map((k) => `loaded ${k}`)
      })
      times.push(performance.now() - started)
      expect(values).toEqual(keys.map((k) => `loaded ${k}`))
      await cache.idle()
    }
    // Only the dead node's keys were loaded; the others came from Redis.
    expect(loaded.sort()).toEqual([...onVictim].sort())
    for (const key of elsewhere.slice(0, 5)) {
      const before = tierHits.length
      expect(await cache.get(key)).toBe(`loaded ${key}`)
      expect(tierHits.length).toBe(before + 1)
    }
    expect(nodeErrors.join('\n')).toMatch(/Cluster node 127\.0\.0\.1:\d+ failed getMany/)
    console.log(`[cluster node down] getManyOrSet(30) ms per round: ${times.map((t) => t.toFixed(0)).join(', ')}; ${onVictim.length} keys on the dead node`)
    // Each round is bounded by tierTimeout (300 ms); the bound is 10x that, for a loaded shared machine. (The last
    // round was also asserted under 250 ms, the kind of bound that failed memcached's breaker test at load 16.)
    expect(Math.max(...times)).toBeLessThan(300 * 10)
    // Once that node's circuit is open, its keys are misses without a wait, shown by a count: in the last round the
    // dead node's read was reported, refused by its open circuit without being sent.
    const lastRound = nodeErrors.slice(errorsBefore[3])
    expect(lastRound.length).toBeGreaterThan(0)
    expect(lastRound.filter((m) => !/circuit open: .* not sent/.test(m))).toEqual([])
  }, 60_000)
})
