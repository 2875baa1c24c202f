// createEdgeCache: the tiers a Worker gets from its env, with and without Upstash credentials.
import { Redis } from '@upstash/redis/cloudflare'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { createEdgeCache } from '../../src/index'
import { sharedEndpoint, unique } from '../support/services'

// For the tests that are not about timeouts: the 1 s default (client and coordinator) runs on the real clock, which a
// loaded 2-core machine can exceed for one request, and a timed-out read is a miss these tests would count.
const redisTimeout = '10s'

describe('createEdgeCache(env, options)', () => {
  it('uses the Cache API and Upstash (with its coordinator) when the env has the Upstash URL and token', async () => {
    const cache = createEdgeCache(env, { Redis, redisTimeout, cacheName: unique('edge'), redisPrefix: `${unique('edge')}:`, policy: { ttl: '1m', tags: ['t'] } })
    expect(cache.tiers.map((t) => t.name)).toEqual(['cache-api', 'upstash'])
    expect(await cache.getOrSet('k', () => 'loaded')).toBe('loaded')
    await cache.idle()
    expect(await cache.getOrSet('k', () => 'not again')).toBe('loaded')
    expect(cache.stats().tiers[0]!.hits).toBe(1)
  })

  it('shares entries between isolates through Upstash', async () => {
    const prefix = `${unique('share')}:`
    const a = createEdgeCache(env, { Redis, redisTimeout, cacheName: unique('a'), redisPrefix: prefix, policy: { ttl: '1m' } })
    const b = createEdgeCache(env, { Redis, redisTimeout, cacheName: unique('b'), redisPrefix: prefix, policy: { ttl: '1m' } })
    await a.set('shared', { from: 'a' })
    expect(await b.getOrSet('shared', () => ({ from: 'b' }))).toEqual({ from: 'a' })
    expect(b.stats().tiers[1]!.hits).toBe(1)
  })

  it('falls back to an in-memory L2 without Upstash credentials, saying so once', async () => {
    const logged: string[] = []
    const log = (message: string): void => {
      logged.push(message)
    }
    const first = createEdgeCache({}, { cacheName: unique('mem'), log })
    const second = createEdgeCache({ UPSTASH_REDIS_REST_URL: '' }, { cacheName: unique('mem'), log })
    expect(first.tiers.map((t) => t.name)).toEqual(['cache-api', 'memory'])
    expect(second.tiers.map((t) => t.name)).toEqual(['cache-api', 'memory'])
    expect(await first.getOrSet('m', () => 'in memory', { ttl: '1m' })).toBe('in memory')
    // Once per isolate (module), not once per cache.
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatch(/^tiercache: L1 cache-api, L2 memory \(per isolate: set UPSTASH_REDIS_REST_URL/)
  })

  it('takes a ready client instead of the class', () => {
    const shared = sharedEndpoint()
    const redis = new Redis({ url: shared.url, token: shared.token, enableTelemetry: false })
    expect(createEdgeCache({}, { redis, cacheName: unique('ready') }).tiers.map((t) => t.name)).toEqual(['cache-api', 'upstash'])
  })

  it('caps how long L1 keeps an entry with l1MaxTtl, with and without Upstash', () => {
    const shared = sharedEndpoint()
    const redis = new Redis({ url: shared.url, token: shared.token, enableTelemetry: false })
    expect(createEdgeCache({}, { redis, cacheName: unique('cap'), l1MaxTtl: '5s' }).tiers[0]?.maxTtl).toBe(5_000)
    expect(createEdgeCache({}, { cacheName: unique('cap-mem'), l1MaxTtl: '1m', log: () => {} }).tiers[0]?.maxTtl).toBe(60_000)
    // Never longer than Redis keeps the record of an entry's tags.
    expect(createEdgeCache({}, { redis, cacheName: unique('cap-long'), l1MaxTtl: '365d' }).tiers[0]?.maxTtl).toBe(30 * 86_400_000)
    expect(() => createEdgeCache({}, { redis, l1MaxTtl: 0 })).toThrow(/options\.l1MaxTtl must be longer than 0 ms/)
  })

  it('says what is missing', () => {
    expect(() => createEdgeCache({ UPSTASH_REDIS_REST_URL: env.UPSTASH_REDIS_REST_URL })).toThrow(/UPSTASH_REDIS_REST_TOKEN is required/)
    expect(() => createEdgeCache(env)).toThrow(/options\.Redis is required/)
    expect(() => createEdgeCache(env, { Redis: 'no' as never })).toThrow(/options\.Redis must be a function/)
    expect(() => createEdgeCache(undefined as never)).toThrow(/needs the Worker's env/)
    expect(() => createEdgeCache(env, { Redis, redisTimeout: 0 })).toThrow(/options\.redisTimeout/)
    expect(() => createEdgeCache({}, { redis: {} as never })).toThrow(/options\.redis/)
  })
})
