// upstashCoordinator against a real redis-server through the Upstash endpoint: stamps, tag stamps, the local copy
// that answers synchronously, locks, and invalidation across isolates whose clocks disagree.
import { createCache, memoryStore, type Cache, type CacheEvent, type Coordinator, type Duration, type Policy } from '@tiercache/core'
import { describe, expect, it } from 'vitest'
import { upstashCoordinator, upstashStore, type RedisClient } from '../../src/index'
import { gate, until } from '../support/holds'
import { edgeIsolate, manualClock, patientCoordinator, redisFor, resetStats, setFault, statsOf, unique, withOwnEndpoint, type OwnEndpoint } from '../support/services'

let endpoint: OwnEndpoint
let redis: ReturnType<typeof redisFor>
withOwnEndpoint((own) => {
  endpoint = own
  redis = redisFor(own)
})

describe('stamps and tag stamps', () => {
  it('issues stamps from the Redis clock that only grow, in the shared layout; another coordinator reads them (and the current stamp) with one MGET', async () => {
    const a = patientCoordinator({ redis })
    const [seconds, micros] = (await redis.time()) as [number, number]
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
    const first = await a.invalidateTags(['t'])
    const second = await a.invalidateTags(['t'])
    expect(first).toBeGreaterThanOrEqual(redisNow)
    expect(first - redisNow).toBeLessThan(60_000)
    expect(second).toBeGreaterThan(first)
    expect(await redis.get('tc:{tags}:tag:t')).toBe(second)
    expect(await redis.get('tc:{tags}:stamp')).toBe(second)
    const b = patientCoordinator({ redis })
    await resetStats(endpoint)
    const answer = b.tagStamp(['t', 'never'])
    expect(answer).toBeInstanceOf(Promise)
    expect(await answer).toBe(second)
    expect(await statsOf(endpoint)).toMatchObject({ requests: 1, byCommand: { MGET: 1 } })
    // The MGET also brought the current stamp: the next load records it without asking.
    expect(b.stamp()).toBe(second)
  })

  it('stamp(): a coordinator that has seen no answer asks once (GET), then answers synchronously', async () => {
    const a = patientCoordinator({ redis })
    const issued = await a.invalidateTags(['x'])
    const b = patientCoordinator({ redis })
    await resetStats(endpoint)
    const answers = [b.stamp(), b.stamp()]
    expect(answers[0]).toBeInstanceOf(Promise)
    expect(await Promise.all(answers)).toEqual([issued, issued])
    expect(await statsOf(endpoint)).toMatchObject({ requests: 1, byCommand: { GET: 1 } })
    expect(b.stamp()).toBe(issued)
    // Before any invalidation anywhere, the stamp is 0.
    await resetStats(endpoint, true)
    expect(await patientCoordinator({ redis }).stamp()).toBe(0)
  })

  it('answers synchronously, without Redis, for tags read within tagCacheTtl; reads again after it', async () => {
    const clock = manualClock()
    const c = patientCoordinator({ redis, tagCacheTtl: '5s', now: clock.now })
    await c.tagStamp(['x', 'y'])
    await resetStats(endpoint)
    clock.advance(4_999)
    expect(c.tagStamp(['x', 'y'])).toBe(0)
    expect(c.tagStamp(['y'])).toBe(0)
    expect((await statsOf(endpoint)).requests).toBe(0)
    clock.advance(1)
    const again = c.tagStamp(['x', 'y'])
    expect(again).toBeInstanceOf(Promise)
    expect(await again).toBe(0)
    expect((await statsOf(endpoint)).requests).toBe(1)
  })

  it('shares one read between concurrent callers asking for the same tags', async () => {
    const c = patientCoordinator({ redis })
    await resetStats(endpoint)
    const answers = await Promise.all(Array.from({ length: 20 }, () => c.tagStamp(['shared-a', 'shared-b'])))
    expect(answers.every((stamp) => stamp === 0)).toBe(true)
    expect((await statsOf(endpoint)).requests).toBe(1)
  })

  it('sees its own invalidation at once: +Infinity while Redis has not answered, then the new stamp', async () => {
    const c = upstashCoordinator({ redis, timeout: '5s' })
    expect(await c.tagStamp(['own'])).toBe(0)
    await setFault(endpoint, { mode: 'slow', delayMs: 300, count: 1 })
    const pending = c.invalidateTags(['own'])
    expect(c.tagStamp(['own', 'other'])).toBe(Number.POSITIVE_INFINITY)
    const stamp = await pending
    expect(c.tagStamp(['own'])).toBe(stamp)
    expect(c.stamp()).toBe(stamp)
  })

  it('a set or load that starts while its own invalidation is being written records the stamp after it: its entry lives on, here and in another isolate', async () => {
    // Redis records the invalidation, its answer is held (a slow network) until the set and the load have asked for
    // their stamp. With the stamp from before the invalidation, both entries die once that answer lands.
    const answered = gate()
    let holding = false
    const held = <T>(sent: Promise<T>, args: string[]): Promise<T> => {
      if (!holding || args[1] !== 'tc:bus') return sent
      holding = false
      return sent.then(async (reply) => {
        await answered.opened
        return reply
      })
    }
    const client = Object.create(redis) as typeof redis
    client.evalsha = ((sha: string, keys: string[], args: string[]) => held(redis.evalsha(sha, keys, args), args)) as typeof redis.evalsha
    client.eval = ((script: string, keys: string[], args: string[]) => held(redis.eval(script, keys, args), args)) as typeof redis.eval
    const policy: Policy = { ttl: '1h', tags: ['products'] }
    const isolate = (coordinator: Coordinator): Cache =>
      createCache({ tiers: [memoryStore(), upstashStore({ redis, coordinator })], coordinator, policy, tierTimeout: '10s', lockWait: '10s' })
    const coordinator = patientCoordinator({ redis: client })
    let asked = 0
    const stamp = coordinator.stamp.bind(coordinator)
    coordinator.stamp = () => (asked++, stamp())
    const a = isolate(coordinator)
    await a.invalidateTags(['other']) // the isolate knows the current stamp (no read of it below)
    asked = 0
    holding = true
    const invalidation = a.invalidateTags(['products'])
    const set = a.set('p:1', 'shoe v2')
    let loads = 0
    const load = (): string => `hat v${++loads}`
    const loaded = a.getOrSet('p:2', load)
    await until(() => asked === 2)
    answered.open()
    await Promise.all([invalidation, set, loaded])
    expect(await a.get('p:1')).toBe('shoe v2')
    expect(await a.getOrSet('p:2', load)).toBe('hat v1')
    expect(loads).toBe(1)
    await a.idle()
    const b = isolate(patientCoordinator({ redis }))
    expect(await b.get('p:1')).toBe('shoe v2')
    expect(await b.get('p:2')).toBe('hat v1')
  })

  it('after a failed invalidation keeps the tags dead here until it reads them again, and rejects', async () => {
    const clock = manualClock()
    const c = patientCoordinator({ redis, tagCacheTtl: '5s', now: clock.now })
    await setFault(endpoint, { mode: 'error500', count: 1 })
    await expect(c.invalidateTags(['failed'])).rejects.toThrow(/injected fault/)
    expect(c.tagStamp(['failed'])).toBe(Number.POSITIVE_INFINITY)
    clock.advance(5_000)
    expect(await c.tagStamp(['failed'])).toBe(0)
  })

  it("a caller that joined another caller's tag read settles only once that read has, even when its own read failed first", async () => {
    // In Workers the two callers are two requests: had the second given up on the first one's read at its own
    // failure, that read would settle later into what the second attached to it, after its request ended (workerd
    // warns "promise resolved from a different request context"). Core bounds the wait by the tier timeout.
    let release: () => void = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    let reads = 0
    const client = Object.create(redis) as typeof redis
    client.mget = ((...keys: string[]) => (++reads === 1 ? held.then(() => redis.mget(...keys)) : Promise.reject(new Error('endpoint answered 500')))) as typeof redis.mget
    const c = upstashCoordinator({ redis: client, timeout: '30s' })
    const first = c.tagStamp(['joined'])
    const second = c.tagStamp(['joined', 'own'])
    expect(reads).toBe(2)
    let settled = false
    const outcome = Promise.resolve(second).then(
      () => (settled = true),
      (error: unknown) => ((settled = true), error),
    )
    for (let i = 0; i < 50; i++) await Promise.resolve()
    expect(settled).toBe(false)
    release()
    expect(await first).toBe(0)
    expect(String(await outcome)).toMatch(/endpoint answered 500/)
  })

  it('keeps tag keys for tagTtl, the stamp key forever', async () => {
    await patientCoordinator({ redis, tagTtl: '1h' }).invalidateTags(['ttl'])
    const pttl = await redis.pttl('tc:{tags}:tag:ttl')
    expect(pttl).toBeGreaterThan(3_590_000)
    expect(pttl).toBeLessThanOrEqual(3_600_000)
    expect(await redis.pttl('tc:{tags}:stamp')).toBe(-1)
  })

  it('refuses a prefix with braces (it would leave the {tags} slot)', () => {
    expect(() => upstashCoordinator({ redis, prefix: 'a{b}:' })).toThrow(/options\.prefix must not contain/)
  })
})

describe('locks', () => {
  it('gives a key to one holder at a time (SET NX PX with a random token)', async () => {
    const a = patientCoordinator({ redis })
    const b = patientCoordinator({ redis })
    const held = await a.lock!('k', 10_000)
    expect(held).toBeDefined()
    expect(await b.lock!('k', 10_000)).toBeUndefined()
    const pttl = await redis.pttl('tc:lock:k')
    expect(pttl).toBeGreaterThan(9_000)
    await held!.release()
    const next = await b.lock!('k', 10_000)
    expect(next).toBeDefined()
    await next!.release()
  })

  it('releases only its own lock: a holder whose lock expired cannot delete the next holder\'s', async () => {
    const a = patientCoordinator({ redis })
    const b = patientCoordinator({ redis })
    const first = await a.lock!('exp', 10_000)
    await redis.del('tc:lock:exp') // as if it had expired
    const second = await b.lock!('exp', 10_000)
    expect(second).toBeDefined()
    await first!.release()
    expect(await redis.exists('tc:lock:exp')).toBe(1)
    await second!.release()
    expect(await redis.exists('tc:lock:exp')).toBe(0)
  })

  it('fails within its timeout when Redis does not answer, instead of hanging', async () => {
    const c = upstashCoordinator({ redis: redisFor(endpoint, { timeoutMs: 5_000 }), timeout: '200ms' })
    await setFault(endpoint, { mode: 'slow', delayMs: 5_000 })
    const t0 = Date.now()
    await expect(c.lock!('slow', 10_000)).rejects.toThrow(/within 200 ms/)
    await expect(c.tagStamp(['slow']) as Promise<number>).rejects.toThrow(/within 200 ms/)
    // Two 200 ms timeouts, against a 5 s endpoint and client: 4.5 s (11x the 400 ms expected, for a loaded machine)
    // tells whether they worked.
    expect(Date.now() - t0).toBeLessThan(4_500)
  })

  it('rejects bad options at the factory, naming the option', () => {
    expect(() => upstashCoordinator({} as never)).toThrow(/options\.redis/)
    expect(() => upstashCoordinator({ redis, tagCacheTtl: 'later' as never })).toThrow(/options\.tagCacheTtl/)
    expect(() => upstashCoordinator({ redis, tagTtl: 0 })).toThrow(/options\.tagTtl/)
    expect(() => upstashCoordinator({ redis, timeout: -5 })).toThrow(/options\.timeout/)
    expect(() => upstashCoordinator({ redis, maxTags: 0 })).toThrow(/options\.maxTags/)
    expect(() => upstashCoordinator({ redis, prefix: {} as never })).toThrow(/options\.prefix/)
  })
})

/** One simulated isolate: its own L1, its own coordinator and client, the shared Redis. */
function isolate(label: string, options: { now?: () => number; tagCacheTtl?: Duration; l1?: 'memory' | 'cache-api' } = {}): { cache: Cache; events: CacheEvent[] } {
  return edgeIsolate(endpoint, { l1: options.l1 ?? 'memory', cacheName: unique(label), now: options.now, tagCacheTtl: options.tagCacheTtl, lockWait: '3s' })
}

describe('across isolates (separate L1s and coordinators, one Redis)', () => {
  it('runs the origin once when five isolates miss the same key at the same moment', async () => {
    const isolates = Array.from({ length: 5 }, (_, i) => isolate(`stampede${i}`).cache)
    await resetStats(endpoint)
    let calls = 0
    const origin = async (): Promise<string> => {
      calls++
      // Held until the four others wait on the lock (each: read + lock attempt, then register + BLPOP), polled from
      // the endpoint's request count: a fixed 100 ms can end before a slow isolate asks on a loaded machine, and that
      // one then reads the entry instead of waiting (lockWaits 3). After 10 s it goes on, and the counts decide.
      for (const end = Date.now() + 10_000; Date.now() < end && (await statsOf(endpoint)).requests < 1 + 2 * 4; ) {
        await new Promise((r) => setTimeout(r, 5))
      }
      return 'loaded once'
    }
    const values = await Promise.all(isolates.map((cache) => cache.getOrSet('hot', origin)))
    expect(values).toEqual(Array(5).fill('loaded once'))
    expect(calls).toBe(1)
    const lockWaits = isolates.reduce((n, cache) => n + cache.stats().lockWaits, 0)
    expect(lockWaits).toBe(4)
    await Promise.all(isolates.map((cache) => cache.idle()))
    const stats = await statsOf(endpoint)
    console.log(`[stampede] 5 isolates: ${calls} origin call, ${stats.requests} Upstash requests ${JSON.stringify(stats.byCommand)}`)
    expect(await redis.exists('tc:lock:hot')).toBe(0)
  })

  it('with separate Cache API caches as L1s too', async () => {
    const isolates = Array.from({ length: 3 }, (_, i) => isolate(`stampede-api${i}`, { l1: 'cache-api' }).cache)
    let calls = 0
    const values = await Promise.all(
      isolates.map((cache) =>
        cache.getOrSet('hot-api', async () => {
          calls++
          await new Promise((r) => setTimeout(r, 100))
          return { n: calls }
        }),
      ),
    )
    expect(values).toEqual(Array(3).fill({ n: 1 }))
    expect(calls).toBe(1)
  })

  it('stops serving an entry invalidated in another isolate within tagCacheTtl, and not before its copy of the tag time expires', async () => {
    const clock = manualClock()
    const a = isolate('inval-a', { now: clock.now, tagCacheTtl: '5s' })
    const b = isolate('inval-b', { now: clock.now, tagCacheTtl: '5s' })
    let version = 1
    const load = (): string => `v${version}`
    const policy = { ttl: '1h', tags: ['product:1'] } as const
    expect(await a.cache.getOrSet('product:1', load, policy)).toBe('v1')
    await a.cache.idle()
    // B reads it (from L2), so it sits in B's own L1 and B has just read the tag's time.
    expect(await b.cache.getOrSet('product:1', load, policy)).toBe('v1')
    await b.cache.idle()
    clock.advance(1_000)
    version = 2
    await a.cache.invalidateTags(['product:1'])
    // A stops at once.
    expect(await a.cache.getOrSet('product:1', load, policy)).toBe('v2')
    // B still trusts its copy of the tag time, read 1 s ago: the documented staleness window.
    expect(await b.cache.getOrSet('product:1', load, policy)).toBe('v1')
    clock.advance(3_999)
    expect(await b.cache.getOrSet('product:1', load, policy)).toBe('v1')
    // tagCacheTtl after B's read: B reads the tag again, the entry in its L1 is dead.
    clock.advance(1)
    expect(await b.cache.getOrSet('product:1', load, policy)).toBe('v2')
    expect(b.events.some((e) => e.type === 'hit' && e.tierIndex === 0)).toBe(true)
  })

  it('an isolate that never read the tag sees the invalidation on its first read', async () => {
    const a = isolate('first-a')
    const c = isolate('first-c')
    const policy = { ttl: '1h', tags: ['t-first'] } as const
    expect(await a.cache.getOrSet('first', () => 'old', policy)).toBe('old')
    await a.cache.idle()
    await new Promise((r) => setTimeout(r, 2))
    await a.cache.invalidateTags(['t-first'])
    await new Promise((r) => setTimeout(r, 2))
    expect(await c.cache.getOrSet('first', () => 'new', policy)).toBe('new')
  })
})

describe('isolates whose clocks are 500 ms apart: stamps decide, clocks are never compared', () => {
  const policy: Policy = { ttl: '1h', tags: ['product:7'] }
  for (const skew of [500, -500]) {
    const label = skew > 0 ? 'A 500 ms ahead' : 'A 500 ms behind'

    it(`${label}: what A loaded before B invalidated is served by neither after it (A within tagCacheTtl)`, async () => {
      const clock = manualClock()
      const a = isolate('skew-a', { now: () => clock.now() + skew, tagCacheTtl: '5s' })
      const b = isolate('skew-b', { now: clock.now, tagCacheTtl: '5s' })
      expect(await a.cache.getOrSet('product:7', () => 'v1', policy)).toBe('v1')
      await a.cache.idle()
      clock.advance(100)
      await b.cache.invalidateTags(['product:7'])
      clock.advance(100)
      expect(await b.cache.getOrSet('product:7', () => 'v2 from b', policy)).toBe('v2 from b')
      await b.cache.idle()
      // A trusts its copy of the tag for tagCacheTtl (the documented bound), then sees the invalidation.
      clock.advance(5_000)
      expect(await a.cache.getOrSet('product:7', () => 'v2 from a', policy)).not.toBe('v1')
    })

    it(`${label}: what A loads after B invalidated lives in both isolates and is loaded once`, async () => {
      const clock = manualClock()
      const a = isolate('skew-a2', { now: () => clock.now() + skew, l1: 'cache-api' })
      const b = isolate('skew-b2', { now: clock.now })
      await b.cache.getOrSet('product:7', () => 'v1', policy)
      await b.cache.idle()
      clock.advance(100)
      await b.cache.invalidateTags(['product:7'])
      clock.advance(100)
      let loads = 0
      const load = (): string => `v2 (load ${++loads})`
      expect(await a.cache.getOrSet('product:7', load, policy)).toBe('v2 (load 1)')
      await a.cache.idle()
      clock.advance(100)
      expect(await a.cache.getOrSet('product:7', load, policy)).toBe('v2 (load 1)')
      expect(await b.cache.getOrSet('product:7', () => 'reloaded in b', policy)).toBe('v2 (load 1)')
      expect(loads).toBe(1)
    })
  }

  it('a value reloaded in the same millisecond as the invalidation is served, not reloaded on every call', async () => {
    const clock = manualClock()
    const a = isolate('same-ms', { now: clock.now })
    await a.cache.getOrSet('product:7', () => 'v1', policy)
    await a.cache.idle()
    await a.cache.invalidateTags(['product:7'])
    let loads = 0
    for (let i = 0; i < 3; i++) expect(await a.cache.getOrSet('product:7', () => `v2 (${++loads})`, policy)).toBe('v2 (1)')
    await a.cache.idle()
    const other = isolate('same-ms-other', { now: clock.now })
    expect(await other.cache.getOrSet('product:7', () => 'reloaded', policy)).toBe('v2 (1)')
  })
})

describe('scripts', () => {
  it("runs its scripts through the client's createScript, made once per script: EVALSHA, and EVAL again after SCRIPT FLUSH (NOSCRIPT)", async () => {
    const made: string[] = []
    const client = Object.create(redis) as typeof redis
    client.createScript = ((script: string) => (made.push(script), redis.createScript.call(client, script))) as typeof redis.createScript
    const c = patientCoordinator({ redis: client })
    const first = await c.invalidateTags(['flushed'])
    await resetStats(endpoint)
    const second = await c.invalidateTags(['flushed'])
    expect((await statsOf(endpoint)).byCommand).toEqual({ EVALSHA: 1 })
    expect(made).toHaveLength(1)
    // Redis forgets every script: the next call is answered NOSCRIPT, then sent by its text, which loads it again.
    expect(await redis.scriptFlush()).toBe('OK')
    await resetStats(endpoint)
    const third = await c.invalidateTags(['flushed'])
    expect((await statsOf(endpoint)).byCommand).toEqual({ EVALSHA: 1, EVAL: 1 })
    expect([first < second, second < third]).toEqual([true, true])
    expect(await redis.get('tc:{tags}:tag:flushed')).toBe(third)
    // The lock scripts too.
    await redis.scriptFlush()
    const attempt = await c.acquire?.(unique('flushed'), 10_000, 0)
    expect(attempt?.status).toBe('acquired')
    if (attempt?.status === 'acquired') await attempt.lock.release()
    expect(made).toHaveLength(3)
  })

  it('sends them by their text (EVAL) with a client that has no createScript', async () => {
    const client: RedisClient = Object.create(redis, { createScript: { value: undefined } })
    const c = patientCoordinator({ redis: client })
    await c.invalidateTags(['bare'])
    await resetStats(endpoint)
    const stamp = await c.invalidateTags(['bare'])
    expect((await statsOf(endpoint)).byCommand).toEqual({ EVAL: 1 })
    expect(await redis.get('tc:{tags}:tag:bare')).toBe(stamp)
  })
})
