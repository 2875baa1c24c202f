// Upstash requests per full miss and per lock waiter (Upstash bills per command), counted by the endpoint over a
// real redis-server with the real @upstash/redis client: isolates on the edge tiers (Cache API L1, Upstash L2,
// upstashCoordinator) missing one key at the same time.
import { createCache, memoryStore, type Cache, type Duration, type Policy } from '@tiercache/core'
import { createCodec } from '@tiercache/core/codec'
import { describe, expect, it } from 'vitest'
import { upstashCoordinator, upstashStore } from '../../src/index'
import { until } from '../support/holds'
import { edgeIsolate, patientCoordinator, redisFor, resetStats, sleep, statsOf, withOwnEndpoint, type OwnEndpoint } from '../support/services'

let endpoint: OwnEndpoint
withOwnEndpoint((own) => {
  endpoint = own
})

const policy: Policy = { ttl: '1h', tags: ['catalog'] }

function isolate(lockWait: Duration = '4s'): Cache {
  return edgeIsolate(endpoint, { policy, lockWait }).cache
}

async function requests(): Promise<number> {
  return (await statsOf(endpoint)).requests
}

describe('Upstash requests per miss', () => {
  it('a full miss costs 2 requests: read + lock in one script, write + release in another', async () => {
    const cache = isolate()
    let origin = 0
    let beforeOrigin = -1
    const value = await cache.getOrSet('p1', async () => {
      origin++
      beforeOrigin = await requests()
      return { id: 1 }
    })
    await cache.idle()
    const stats = await statsOf(endpoint)
    console.log(`[upstash requests] full miss: ${beforeOrigin} before the origin, ${stats.requests} in all ${JSON.stringify(stats.byCommand)}`)
    expect(value).toEqual({ id: 1 })
    expect(origin).toBe(1)
    expect(beforeOrigin).toBe(1)
    expect(stats.requests).toBe(2)
    // Then another isolate's L2 hit is 1 request, and this isolate's L1 hit none.
    await resetStats(endpoint)
    expect(await isolate().getOrSet('p1', () => ({ id: 'origin must not run' }))).toEqual({ id: 1 })
    expect(await requests()).toBe(1)
    expect(await cache.getOrSet('p1', () => ({ id: 'origin must not run' }))).toEqual({ id: 1 })
    expect(await requests()).toBe(1)
  })

  it('lockInRead: false reads with EVAL_RO (read regions can answer) and takes the lock apart: 3 requests', async () => {
    const redis = redisFor(endpoint)
    const coordinator = patientCoordinator({ redis })
    const make = (): Cache => createCache({ tiers: [memoryStore(), upstashStore({ redis, coordinator, lockInRead: false })], coordinator, policy, tierTimeout: '10s' })
    // The lock script is sent by its SHA-1: known to Redis after a first miss.
    const warm = make()
    await warm.getOrSet('warm', () => 'w')
    await warm.idle()
    await resetStats(endpoint)
    const cache = make()
    expect(await cache.getOrSet('p5', () => ({ id: 5 }))).toEqual({ id: 5 })
    await cache.idle()
    const stats = await statsOf(endpoint)
    expect(stats.byCommand).toEqual({ EVAL_RO: 1, EVALSHA: 1, EVAL: 1 })
    expect(stats.requests).toBe(3)
  })

  it("waiters on another isolate's lock make 2 requests each and get the holder's entry as soon as it is written", async () => {
    const [holder, ...waiters] = [isolate(), isolate(), isolate()]
    let origin = 0
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const load = async (): Promise<{ id: number }> => {
      origin++
      await gate
      return { id: 2 }
    }
    const first = holder.getOrSet('p2', load)
    await until(() => origin === 1)
    const holderBefore = await requests()
    const answers = waiters.map((cache) => cache.getOrSet('p2', load))
    // Each waiter has asked (read + lock attempt) and is waiting (register + BLPOP): its 2 requests have arrived.
    // (Was a 300 ms sleep, which a loaded machine can outrun: a waiter asking after the release reads the entry.)
    await until(async () => (await requests()) - holderBefore >= 2 * waiters.length)
    const waitingRequests = (await requests()) - holderBefore
    const t0 = Date.now()
    release()
    const values = await Promise.all([first, ...answers])
    const waitedMs = Date.now() - t0
    await Promise.all([holder.idle(), ...waiters.map((w) => w.idle())])
    const stats = await statsOf(endpoint)
    const perWaiter = (stats.requests - 2) / waiters.length
    console.log(
      `[upstash requests] ${waiters.length} waiters: ${stats.requests} requests in all (holder 2), ${perWaiter} per waiter ` +
        `(${waitingRequests} while waiting); answered ${waitedMs} ms after the holder's origin returned ${JSON.stringify(stats.byCommand)}`,
    )
    expect(values).toEqual([{ id: 2 }, { id: 2 }, { id: 2 }])
    expect(origin).toBe(1)
    expect(perWaiter).toBeLessThanOrEqual(2)
    expect(waiters.map((w) => w.stats().lockWaits)).toEqual([1, 1])
    // Many times the expected few ms, far below lockWait (4 s).
    expect(waitedMs).toBeLessThan(2_000)
  })

  it('an uncacheable holder answer (ctx.skip) releases the waiters at once: each loads its own, 2 requests for waiting', async () => {
    const holder = isolate('8s')
    const waiter = isolate('8s')
    let origin = 0
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const first = holder.getOrSet('p3', async (ctx) => {
      origin++
      await gate
      ctx.skip()
      return { id: 'for the holder only' }
    })
    await until(() => origin === 1)
    const holderBefore = await requests()
    const second = waiter.getOrSet('p3', async () => {
      origin++
      return { id: 3 }
    })
    // The waiter's 2 requests (read + lock attempt, register + BLPOP) have arrived: it is waiting.
    await until(async () => (await requests()) - holderBefore >= 2)
    const t0 = Date.now()
    release()
    expect(await first).toEqual({ id: 'for the holder only' })
    expect(await second).toEqual({ id: 3 })
    const waitedMs = Date.now() - t0
    await Promise.all([holder.idle(), waiter.idle()])
    const stats = await statsOf(endpoint)
    console.log(`[upstash requests] uncacheable holder: waiter answered ${waitedMs} ms after the holder's answer; ${stats.requests} requests in all ${JSON.stringify(stats.byCommand)}`)
    expect(origin).toBe(2)
    // lockWait is 8 s: a waiter released at once answers many times sooner.
    expect(waitedMs).toBeLessThan(4_000)
    // The waiter blocked once, polled never: holder read + lock, release (EVALSHA, + EVAL the first time Redis sees
    // the script); waiter read + register, BLPOP, then the write of its own answer.
    expect(stats.byCommand.BLPOP).toBe(1)
    expect(stats.requests).toBeLessThanOrEqual(6)
  })

  it('with an encrypting codec on the L2, waiters get the value decrypted, and Redis never holds it in the clear', async () => {
    const codec = createCodec({ encryption: { keys: [{ id: 'k1', key: new Uint8Array(32).fill(7) }], current: 'k1' } })
    const isolates = [0, 1].map(() => {
      const redis = redisFor(endpoint)
      const coordinator = patientCoordinator({ redis })
      return createCache({ tiers: [memoryStore(), upstashStore({ redis, coordinator })], coordinator, codec, policy, tierTimeout: '10s', lockWait: '4s' })
    })
    const [holder, waiter] = isolates as [Cache, Cache]
    let origin = 0
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const load = async (): Promise<{ secret: string }> => {
      origin++
      await gate
      return { secret: 'plain-text-secret' }
    }
    const first = holder.getOrSet('p4', load)
    await until(() => origin === 1)
    const holderBefore = await requests()
    const second = waiter.getOrSet('p4', load)
    // The waiter's 2 requests (read + lock attempt, register + BLPOP) have arrived: it is waiting.
    await until(async () => (await requests()) - holderBefore >= 2)
    release()
    expect(await Promise.all([first, second])).toEqual([{ secret: 'plain-text-secret' }, { secret: 'plain-text-secret' }])
    expect(origin).toBe(1)
    await Promise.all([holder.idle(), waiter.idle()])
    const redis = redisFor(endpoint, { deserialize: false })
    const keys = (await redis.keys('*')) as string[]
    const values = await Promise.all(keys.map(async (key) => ((await redis.type(key)) === 'list' ? (await redis.lrange(key, 0, -1)).join() : String(await redis.get(key)))))
    expect(values.join('\n')).not.toContain('plain-text-secret')
    expect(values.join('\n')).toContain('aes-gcm.k1')
  })

  it('a read given up on (tierTimeout) that took the lock anyway: this isolate holds it, never waits for itself', async () => {
    const redis = redisFor(endpoint)
    // Redis runs the read (and takes the lock), but the answer arrives after core stopped waiting for it.
    const late = new Proxy(redis, {
      get(target, name, receiver) {
        if (name !== 'eval') return Reflect.get(target, name, receiver)
        return async (script: string, keys: string[], args: string[]) => {
          const reply = await target.eval(script, keys, args)
          if (script.includes('local function read()')) await sleep(600)
          return reply
        }
      },
    })
    const coordinator = upstashCoordinator({ redis: late })
    const cache = createCache({
      tiers: [memoryStore(), upstashStore({ redis: late, coordinator })],
      coordinator,
      policy,
      tierTimeout: '300ms',
      lockWait: '8s',
    })
    let origin = 0
    const t0 = Date.now()
    expect(await cache.getOrSet('p6', () => ++origin)).toBe(1)
    const tookMs = Date.now() - t0
    await cache.idle()
    expect(origin).toBe(1)
    // lockWait is 8 s: a wait for its own lock would last that long.
    expect(tookMs).toBeLessThan(4_000)
    expect(cache.stats().lockWaits).toBe(0)
    expect(await redis.exists('tc:lock:' + (await redis.keys('tc:v:*'))[0]!.slice('tc:v:'.length))).toBe(0)
  })
})
