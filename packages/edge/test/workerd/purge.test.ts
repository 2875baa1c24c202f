// One invalidation for every layer: tiercache's tiers (real Cache API L1 + memory L2 in workerd, one coordinator)
// and Workers Cache. Local workerd has no ctx.cache (checked below), so Workers Cache is a structural double that
// records the calls the runtime would receive, on top of the real runtime's ExecutionContext.
import { createCache, memoryCoordinator, memoryStore, warm, type Cache, type Policy } from '@tiercache/core'
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import {
  cacheApiStore,
  cdnTag,
  invalidateEverywhere,
  withWorkersCache,
  workersCacheOf,
  type PurgeResultLike,
  type PurgeSelector,
  type WorkersCacheLike,
} from '../../src/index'
import { unique } from '../support/services'

interface Recorded {
  method: 'purge' | 'invalidate'
  selector: PurgeSelector
}

function fakeWorkersCache(options: { invalidate?: boolean; fail?: 'result' | 'throw' } = {}): WorkersCacheLike & { calls: Recorded[] } {
  const calls: Recorded[] = []
  const answer = async (method: Recorded['method'], selector: PurgeSelector): Promise<PurgeResultLike> => {
    calls.push({ method, selector: structuredClone(selector) })
    if (options.fail === 'throw') throw new Error('purge endpoint unreachable')
    if (options.fail === 'result') return { success: false, errors: [{ code: 1101, message: 'rate limited' }] }
    return { success: true, errors: [] }
  }
  const cache: WorkersCacheLike & { calls: Recorded[] } = { calls, purge: (s) => answer('purge', s) }
  if (options.invalidate !== false) cache.invalidate = (s) => answer('invalidate', s)
  return cache
}

/** Two isolates' caches over one shared L2 and coordinator, each with its own Cache API L1. */
function twoIsolates(): [Cache, Cache] {
  const l2 = memoryStore()
  const coordinator = memoryCoordinator()
  const make = (): Cache => createCache({ tiers: [cacheApiStore({ cacheName: unique('purge') }), l2], coordinator, namespace: 'app' })
  return [make(), make()]
}

describe('Workers Cache in this runtime', () => {
  it('local workerd gives handlers no ctx.cache: detection says so instead of assuming', () => {
    const ctx = createExecutionContext()
    expect(workersCacheOf(ctx)).toBeUndefined()
    expect(workersCacheOf({ cache: { purge: 'no' } })).toBeUndefined()
    const fake = fakeWorkersCache()
    expect(workersCacheOf({ cache: fake })).toBe(fake)
  })
})

describe('invalidateEverywhere', () => {
  it('hard: the tiers of every isolate load again, and Workers Cache purges the tags as Cache-Tag wrote them', async () => {
    const [a, b] = twoIsolates()
    let version = 1
    const load = (): Promise<number | null> => a.getOrSet('price', () => version, { ttl: '1h', tags: ['prices', 'a,b'] })
    expect(await load()).toBe(1)
    expect(await b.getOrSet('price', () => -1, { ttl: '1h', tags: ['prices'] })).toBe(1)
    version = 2
    const workersCache = fakeWorkersCache()
    const report = await invalidateEverywhere(a, ['prices', 'a,b'], { workersCache })
    expect(report.workersCache).toEqual({ action: 'purge', tags: ['prices', cdnTag('a,b')], calls: 1, ok: true })
    expect(workersCache.calls).toEqual([{ method: 'purge', selector: { tags: ['prices', cdnTag('a,b')] } }])
    // The writer reads its own write, and the other isolate sees it through the coordinator.
    expect(await load()).toBe(2)
    expect(await b.getOrSet('price', () => 3, { ttl: '1h', tags: ['prices'] })).toBe(2)
  })

  it('soft across two isolates: the other isolate answers the old value once while one refresh loads, then the new one', async () => {
    const [a, b] = twoIsolates()
    let version = 1
    const policy: Policy = { ttl: '1h', swr: '1h', tags: ['prices'] }
    expect(await a.getOrSet('price', () => version, policy)).toBe(1)
    expect(await b.getOrSet('price', () => -1, policy)).toBe(1)
    version = 2
    await invalidateEverywhere(a, ['prices'], { workersCache: fakeWorkersCache(), mode: 'soft' })
    expect(await b.getOrSet('price', () => version, policy)).toBe(1)
    await b.idle()
    expect(await b.getOrSet('price', () => 3, policy)).toBe(2)
    // A hard invalidation is not served stale: the next read loads.
    version = 4
    await invalidateEverywhere(a, ['prices'], { workersCache: fakeWorkersCache() })
    expect(await b.getOrSet('price', () => version, policy)).toBe(4)
  })

  it("soft: Workers Cache's invalidate (revalidation with the Worker), not purge", async () => {
    const [a] = twoIsolates()
    const workersCache = fakeWorkersCache()
    const report = await invalidateEverywhere(a, ['prices'], { workersCache, mode: 'soft' })
    expect(report.mode).toBe('soft')
    expect(workersCache.calls).toEqual([{ method: 'invalidate', selector: { tags: ['prices'] } }])
  })

  it('soft on a runtime without invalidate purges instead (stricter, never looser)', async () => {
    const [a] = twoIsolates()
    const workersCache = fakeWorkersCache({ invalidate: false })
    const report = await invalidateEverywhere(a, ['prices'], { workersCache, mode: 'soft' })
    expect(report.workersCache).toMatchObject({ action: 'purge', ok: true })
    expect(workersCache.calls.map((c) => c.method)).toEqual(['purge'])
  })

  it('finds Workers Cache on ctx.cache, and batches many tags', async () => {
    const [a] = twoIsolates()
    const workersCache = fakeWorkersCache()
    const tags = Array.from({ length: 65 }, (_, i) => `t${i}`)
    const more = await invalidateEverywhere(a, tags.slice(0, 64), { ctx: { waitUntil() {}, cache: workersCache }, maxTagsPerCall: 30 })
    expect(more.workersCache).toMatchObject({ action: 'purge', calls: 3, ok: true })
    expect(workersCache.calls.map((c) => c.selector.tags?.length)).toEqual([30, 30, 4])
    expect(workersCache.calls.flatMap((c) => c.selector.tags)).toEqual(tags.slice(0, 64))
  })

  it.each(['result', 'throw'] as const)('a failing Workers Cache (%s) is reported and logged, never thrown; the tiers are invalidated', async (fail) => {
    const [a] = twoIsolates()
    let version = 1
    const load = (): Promise<number | null> => a.getOrSet('k', () => version, { ttl: '1h', tags: ['t'] })
    await load()
    version = 2
    const logged: string[] = []
    const report = await invalidateEverywhere(a, ['t'], { workersCache: fakeWorkersCache({ fail }), log: (m) => logged.push(m) })
    expect(report.workersCache).toMatchObject({ action: 'purge', ok: false })
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatch(/Workers Cache purge of 1 tag\(s\) failed/)
    expect(await load()).toBe(2)
  })

  it('a failing coordinator is thrown: the data layer was not invalidated', async () => {
    const broken = createCache({
      tiers: [memoryStore()],
      coordinator: { ...memoryCoordinator(), invalidateTags: () => Promise.reject(new Error('coordinator down')) } as never,
    })
    await expect(invalidateEverywhere(broken, ['t'], { workersCache: fakeWorkersCache() })).rejects.toThrow(/coordinator down/)
  })

  it('without Workers Cache: the tiers only, and one warning per isolate naming why', async () => {
    const [a] = twoIsolates()
    const logged: string[] = []
    const ctx = createExecutionContext()
    const first = await invalidateEverywhere(a, ['t'], { ctx, log: (m) => logged.push(m) })
    await invalidateEverywhere(a, ['t'], { ctx, log: (m) => logged.push(m) })
    expect(first.workersCache).toEqual({ action: 'none', reason: 'absent' })
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatch(/no Workers Cache \(ctx\.cache\)/)
    expect((await invalidateEverywhere(a, ['t'], { workersCache: false })).workersCache).toEqual({ action: 'none', reason: 'disabled' })
    await waitOnExecutionContext(ctx)
  })

  it('rejects bad input before touching any layer', async () => {
    const [a] = twoIsolates()
    const workersCache = fakeWorkersCache()
    await expect(invalidateEverywhere(a, ['ok', 'a b'], { workersCache, tagOptions: { unsafe: 'throw' } })).rejects.toThrow(RangeError)
    await expect(invalidateEverywhere(a, ['ok'], { workersCache, mode: 'gentle' as 'soft' })).rejects.toThrow(/options.mode/)
    await expect(invalidateEverywhere({} as Cache, ['ok'])).rejects.toThrow(TypeError)
    expect(workersCache.calls).toEqual([])
  })
})

describe('withWorkersCache', () => {
  it("a cache whose invalidateTags reaches Workers Cache too; everything else is the cache's own", async () => {
    const [a] = twoIsolates()
    const workersCache = fakeWorkersCache()
    const view = withWorkersCache(a, { ctx: { cache: workersCache } })
    let version = 1
    expect(await view.getOrSet('k', () => version, { ttl: '1h', tags: ['t'] })).toBe(1)
    version = 2
    // core's invalidateTags takes { mode } once soft invalidation lands there; the fan-out passes it on already.
    const soft = view.invalidateTags as (tags: string[], options: { mode: 'soft' }) => Promise<void>
    await soft(['t'], { mode: 'soft' })
    await view.invalidateTags(['t'])
    expect(workersCache.calls.map((c) => c.method)).toEqual(['invalidate', 'purge'])
    expect(await a.getOrSet('k', () => version, { ttl: '1h', tags: ['t'] })).toBe(2)
    expect(view.namespace).toBe('app')
    expect(view.stats()).toEqual(a.stats())
  })

  it("is a view core's own functions accept: warm(view, ...) loads through it (c.var.cache in Hono)", async () => {
    const [a] = twoIsolates()
    const ctx = createExecutionContext()
    const view = withWorkersCache(a, { ctx: Object.assign(ctx, { cache: fakeWorkersCache() }) })
    const result = await warm(view, ['w1', 'w2'], (c) => `v:${c.key}`, { policy: { ttl: '1h' } })
    expect(result).toMatchObject({ total: 2, loaded: 2, failed: 0 })
    await waitOnExecutionContext(ctx)
    expect(await a.get('w2')).toBe('v:w2')
  })
})
