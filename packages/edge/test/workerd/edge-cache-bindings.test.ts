// createEdgeCache choosing L2 and coordinator from the bindings it finds (Upstash URL/token, a KV namespace, the
// TiercacheCoordinator Durable Object), logging the choice once, and explicit options overriding it.
import { memoryCoordinator } from '@tiercache/core'
import { Redis } from '@upstash/redis/cloudflare'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { choiceOf, createEdgeCache, type EdgeCacheEnv } from '../../src/index'
import { unique } from '../support/services'

const cloudflareOnly = (): EdgeCacheEnv => ({ TIERCACHE_KV: env.TEST_KV, TIERCACHE: env.TIERCACHE })
const everything = (): EdgeCacheEnv => ({ ...cloudflareOnly(), UPSTASH_REDIS_REST_URL: env.UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN: env.UPSTASH_REDIS_REST_TOKEN })

function logger(): { log: (message: string) => void; lines: string[] } {
  const lines: string[] = []
  return { lines, log: (message) => lines.push(message) }
}

describe('createEdgeCache: the choice from the bindings', () => {
  it('Cloudflare bindings only: Cache API + KV, coordinated by the Durable Object', async () => {
    const { log, lines } = logger()
    const prefix = `${unique('cf')}:`
    const cache = createEdgeCache(cloudflareOnly(), { cacheName: unique('cf'), redisPrefix: prefix, log, policy: { ttl: '1m' } })
    expect(cache.tiers.map((t) => t.name)).toEqual(['cache-api', 'kv'])
    expect(choiceOf(cache)).toMatchObject({ l2: 'kv', coordinator: 'durable-object' })
    expect(lines).toEqual(['tiercache: L1 cache-api, L2 kv (env.TIERCACHE_KV), coordinator durable-object (env.TIERCACHE)'])
    // Shared for real: another isolate's cache (own L1) reads what this one wrote to KV, and the tags are global.
    expect(await cache.getOrSet('k', () => 'loaded', { ttl: '1m', tags: ['t'] })).toBe('loaded')
    await cache.idle()
    const other = createEdgeCache(cloudflareOnly(), { cacheName: unique('cf-other'), redisPrefix: prefix, log, policy: { ttl: '1m' } })
    expect(await other.getOrSet('k', () => 'not again', { ttl: '1m', tags: ['t'] })).toBe('loaded')
    await other.invalidateTags(['t'])
    await new Promise((r) => setTimeout(r, 5))
    expect(await other.getOrSet('k', () => 'after invalidation', { ttl: '1m', tags: ['t'] })).toBe('after invalidation')
    // One line per isolate for one choice, however many caches.
    expect(lines).toHaveLength(1)
  })

  it('KV alone: KV L2, in-process coordinator, and the log says how to share locks and tags', () => {
    const { log, lines } = logger()
    const cache = createEdgeCache({ TIERCACHE_KV: env.TEST_KV }, { cacheName: unique('kv'), log })
    expect(cache.tiers.map((t) => t.name)).toEqual(['cache-api', 'kv'])
    expect(choiceOf(cache)).toMatchObject({ l2: 'kv', coordinator: 'local' })
    expect(lines[0]).toMatch(/coordinator local \(per isolate: bind the TiercacheCoordinator Durable Object as TIERCACHE/)
  })

  it('the Durable Object alone: in-memory L2, shared locks and tags', () => {
    const cache = createEdgeCache({ TIERCACHE: env.TIERCACHE }, { cacheName: unique('do'), log: () => {} })
    expect(cache.tiers.map((t) => t.name)).toEqual(['cache-api', 'memory'])
    expect(choiceOf(cache)).toMatchObject({ l2: 'memory', coordinator: 'durable-object' })
  })

  it('Upstash configured: Upstash L2 and coordinator, even with KV and the object bound', () => {
    const cache = createEdgeCache(everything(), { Redis, cacheName: unique('up'), log: () => {} })
    expect(cache.tiers.map((t) => t.name)).toEqual(['cache-api', 'upstash'])
    expect(choiceOf(cache)).toMatchObject({ l2: 'upstash', coordinator: 'upstash' })
  })

  it('explicit options override the choice', () => {
    const quiet = { log: () => {} }
    expect(choiceOf(createEdgeCache(everything(), { Redis, l2: 'kv', cacheName: unique('o1'), ...quiet }))).toMatchObject({ l2: 'kv', coordinator: 'durable-object' })
    expect(choiceOf(createEdgeCache(everything(), { Redis, coordinator: 'durable-object', cacheName: unique('o2'), ...quiet }))).toMatchObject({
      l2: 'upstash',
      coordinator: 'durable-object',
    })
    expect(choiceOf(createEdgeCache(cloudflareOnly(), { l2: 'memory', coordinator: 'local', cacheName: unique('o3'), ...quiet }))).toMatchObject({
      l2: 'memory',
      coordinator: 'local',
    })
    const own = memoryCoordinator()
    const cache = createEdgeCache(cloudflareOnly(), { coordinator: own, cacheName: unique('o4'), ...quiet })
    expect(choiceOf(cache)?.summary).toMatch(/coordinator memory \(given\)$/)
    // Other binding names.
    const renamed = createEdgeCache({ CACHE: env.TEST_KV, LOCKS: env.TIERCACHE } as EdgeCacheEnv, { kvBinding: 'CACHE', durableObjectBinding: 'LOCKS', cacheName: unique('o5'), ...quiet })
    expect(choiceOf(renamed)).toMatchObject({ l2: 'kv', coordinator: 'durable-object' })
  })

  it("durableObjectTimeout is the Durable Object coordinator's timeout (1 s without it)", async () => {
    // Objects that never answer: the coordinator gives up after its timeout, and its error says which.
    const hanging: EdgeCacheEnv = { TIERCACHE: { idFromName: (name) => env.TIERCACHE.idFromName(name), get: () => ({ fetch: () => new Promise<Response>(() => {}) }) } }
    const quiet = { log: () => {} }
    const given = createEdgeCache(hanging, { durableObjectTimeout: '50ms', cacheName: unique('do-timeout'), ...quiet })
    expect(choiceOf(given)).toMatchObject({ coordinator: 'durable-object' })
    await expect(given.invalidateTags(['t'])).rejects.toThrow(/got no answer from .* within 50 ms/)
    const byDefault = createEdgeCache(hanging, { cacheName: unique('do-timeout-default'), ...quiet })
    await expect(byDefault.invalidateTags(['t'])).rejects.toThrow(/got no answer from .* within 1000 ms/)
    expect(() => createEdgeCache(hanging, { durableObjectTimeout: -1 })).toThrow(/options\.durableObjectTimeout/)
  })

  it('says what is missing for an explicit choice, naming the binding', () => {
    expect(() => createEdgeCache({}, { l2: 'kv' })).toThrow(/env.TIERCACHE_KV is required for options.l2 'kv'/)
    expect(() => createEdgeCache({}, { coordinator: 'durable-object' })).toThrow(/env.TIERCACHE is required for options.coordinator 'durable-object'/)
    expect(() => createEdgeCache({}, { l2: 'upstash' })).toThrow(/UPSTASH_REDIS_REST_URL is required/)
    expect(() => createEdgeCache({}, { l2: 'redis' as never })).toThrow(/options.l2 must be one of 'upstash', 'kv', 'memory'/)
    expect(() => createEdgeCache({}, { coordinator: 'do' as never })).toThrow(/options.coordinator must be one of/)
    expect(() => createEdgeCache({}, { kvBinding: '' })).toThrow(/options.kvBinding must be a non-empty string/)
  })
})
