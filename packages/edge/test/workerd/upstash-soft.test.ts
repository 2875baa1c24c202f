// Soft invalidation (`invalidateTags(tags, { mode: 'soft' })`, `expire(key)`) with upstashCoordinator, against a
// real redis-server through the Upstash endpoint: entries turn stale in every isolate (served within swr while one
// refresh runs), and the soft records cost no request of their own (read with the entry, with the tags, or handed
// to lock waiters).
import type { CacheEvent, Policy } from '@tiercache/core'
import { describe, expect, it } from 'vitest'
import { upstashCoordinator } from '../../src/index'
import { edgeIsolate, manualClock, redisFor, resetStats, statsOf, withOwnEndpoint, type OwnEndpoint } from '../support/services'

let endpoint: OwnEndpoint
withOwnEndpoint((own) => {
  endpoint = own
})

const policy: Policy = { ttl: '1h', swr: '1h', tags: ['prices'] }

function staleServes(events: CacheEvent[], key: string): number {
  return events.filter((e) => e.type === 'stale' && e.key === key).length
}

describe('soft invalidation with upstashCoordinator', () => {
  it('declares softRecords, and soft and hard records are separate keys in the shared layout', async () => {
    const redis = redisFor(endpoint)
    const coordinator = upstashCoordinator({ redis })
    expect(coordinator.softRecords).toBe(true)
    const { cache } = edgeIsolate(endpoint, { l1: 'memory', policy })
    await cache.invalidateTags(['t'], { mode: 'soft' })
    const keys = (await redis.keys('tc:{tags}:tag:*')).sort()
    expect(keys).toEqual(['tc:{tags}:tag:%soft::t'])
    await cache.invalidateTags(['t'])
    expect((await redis.keys('tc:{tags}:tag:*')).sort()).toEqual(['tc:{tags}:tag:%soft::t', 'tc:{tags}:tag::t'])
  })

  it('another isolate serves the entry stale (once) within tagCacheTtl of a soft invalidation, while one refresh loads', async () => {
    const clock = manualClock()
    const a = edgeIsolate(endpoint, { now: clock.now, tagCacheTtl: '5s', policy })
    const b = edgeIsolate(endpoint, { now: clock.now, tagCacheTtl: '5s', policy })
    let version = 1
    let loads = 0
    const load = (): string => {
      loads++
      return `v${version}`
    }
    expect(await a.cache.getOrSet('p', load)).toBe('v1')
    await a.cache.idle()
    expect(await b.cache.getOrSet('p', load)).toBe('v1')
    await b.cache.idle()
    expect(loads).toBe(1)
    version = 2
    await a.cache.invalidateTags(['prices'], { mode: 'soft' })
    // The invalidating isolate: the old value once, stale, while the refresh loads; then the new one.
    expect(await a.cache.getOrSet('p', load)).toBe('v1')
    expect(staleServes(a.events, 'p')).toBe(1)
    await a.cache.idle()
    expect(loads).toBe(2)
    expect(await a.cache.getOrSet('p', load)).toBe('v2')
    // B trusts what it read about the tag for tagCacheTtl, then sees the soft record: stale, one refresh, new.
    expect(await b.cache.getOrSet('p', load)).toBe('v1')
    expect(staleServes(b.events, 'p')).toBe(0)
    clock.advance(5_000)
    expect(await b.cache.getOrSet('p', load)).toBe('v1')
    expect(staleServes(b.events, 'p')).toBe(1)
    await b.cache.idle()
    expect(loads).toBe(3)
    expect(await b.cache.getOrSet('p', load)).toBe('v2')
  })

  it('an entry with no swr window dies at a soft invalidation, as core documents', async () => {
    const noSwr: Policy = { ttl: '1h', tags: ['prices'] }
    const a = edgeIsolate(endpoint, { l1: 'memory', policy: noSwr })
    let loads = 0
    expect(await a.cache.getOrSet('hard-only', () => ++loads, noSwr)).toBe(1)
    await a.cache.invalidateTags(['prices'], { mode: 'soft' })
    expect(await a.cache.getOrSet('hard-only', () => ++loads, noSwr)).toBe(2)
  })

  it('a new isolate reads the entry, its tags and their soft records in one request, and serves it stale', async () => {
    const a = edgeIsolate(endpoint, { l1: 'memory', policy })
    expect(await a.cache.getOrSet('q', () => 'old')).toBe('old')
    await a.cache.idle()
    await a.cache.invalidateTags(['prices'], { mode: 'soft' })
    await resetStats(endpoint)
    const c = edgeIsolate(endpoint, { l1: 'memory', policy })
    let refreshed = 0
    expect(await c.cache.getOrSet('q', () => `new${++refreshed}`)).toBe('old')
    // One request decided it: the read script (the entry, the stamp, the tag and its soft record).
    expect((await statsOf(endpoint)).requests).toBe(1)
    expect(staleServes(c.events, 'q')).toBe(1)
    await c.cache.idle()
    expect(refreshed).toBe(1)
    expect(await c.cache.getOrSet('q', () => `new${++refreshed}`)).toBe('new1')
  })

  it('expire(key) turns the shared copy stale for every isolate, without touching the tags', async () => {
    const a = edgeIsolate(endpoint, { l1: 'memory', policy })
    const b = edgeIsolate(endpoint, { l1: 'memory', policy })
    expect(await a.cache.getOrSet('e', () => 'first')).toBe('first')
    await a.cache.idle()
    await a.cache.expire('e')
    expect(await b.cache.getOrSet('e', () => 'second')).toBe('first')
    expect(staleServes(b.events, 'e')).toBe(1)
    await b.cache.idle()
    expect(await b.cache.getOrSet('e', () => 'third')).toBe('second')
  })
})
