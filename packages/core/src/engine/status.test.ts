import { describe, expect, it } from 'vitest'
import { createCache } from '../cache.js'
import { memoryStore } from '../stores/memory.js'
import { deferred, flush, manualClock, ScriptedStore } from '../test-support/helpers.js'
import type { ReadStatus } from './status.js'

function twoTiers(policy = { ttl: 1000, swr: 5000, staleIfError: 60_000 }) {
  const clock = manualClock()
  const l1 = memoryStore({ name: 'l1' })
  const l2 = new ScriptedStore('l2')
  const cache = createCache({ tiers: [l1, l2], now: clock.now, policy })
  return { cache, clock, l1, l2 }
}

describe('read status (provenance for callers)', () => {
  it('says loaded, then fresh from L1, with the entry times', async () => {
    const { cache, clock } = twoTiers()
    const first: ReadStatus = {}
    expect(await cache.getOrSet('k', () => 'v', undefined, { status: first })).toBe('v')
    expect(first).toMatchObject({ state: 'loaded', tier: -1, tierName: undefined, collapsed: false, stored: true })
    expect(first.entry).toMatchObject({ value: 'v', createdAt: clock.now(), freshUntil: clock.now() + 1000, staleUntil: clock.now() + 6000 })
    await cache.idle()
    const second: ReadStatus = {}
    await cache.getOrSet('k', () => 'never', undefined, { status: second })
    expect(second).toMatchObject({ state: 'fresh', tier: 0, tierName: 'l1', collapsed: false, refreshing: false, stored: false })
    expect(second.entry?.freshUntil).toBe(clock.now() + 1000)
  })

  it('names the lower tier that answered, and says stale while a refresh runs', async () => {
    const { cache, clock, l2 } = twoTiers()
    const t = clock.now()
    l2.map.set(':k', { value: 'from-l2', createdAt: t, freshUntil: t + 1000, staleUntil: t + 6000 })
    const status: ReadStatus = {}
    expect(await cache.getOrSet('k', () => 'loaded', undefined, { status })).toBe('from-l2')
    expect(status).toMatchObject({ state: 'fresh', tier: 1, tierName: 'l2' })
    await cache.idle()
    clock.advance(2000)
    const gate = deferred<string>()
    const stale: ReadStatus = {}
    expect(await cache.getOrSet('k', () => gate.promise, undefined, { status: stale })).toBe('from-l2')
    expect(stale).toMatchObject({ state: 'stale', tier: 0, refreshing: true })
    gate.resolve('new')
    await cache.idle()
  })

  it('says stale-if-error with the tier of the fallback when the loader fails', async () => {
    const { cache, clock, l2 } = twoTiers({ ttl: 1000, swr: 0, staleIfError: 60_000 })
    const t = clock.now()
    l2.map.set(':k', { value: 'old', createdAt: t - 5000, freshUntil: t - 4000, staleUntil: t - 4000, errorUntil: t + 50_000 })
    const status: ReadStatus = {}
    expect(await cache.getOrSet('k', () => Promise.reject(new Error('down')), undefined, { status })).toBe('old')
    expect(status).toMatchObject({ state: 'stale-if-error', tier: 1, tierName: 'l2', stored: false })
  })

  it('says negative for a cached "not found", and collapsed for a caller that joined', async () => {
    const { cache } = twoTiers()
    const gate = deferred<null>()
    const owner: ReadStatus = {}
    const joiner: ReadStatus = {}
    const a = cache.getOrSet('gone', () => gate.promise, undefined, { status: owner })
    const b = cache.getOrSet('gone', () => 'never', undefined, { status: joiner })
    await flush()
    gate.resolve(null)
    expect(await Promise.all([a, b])).toEqual([null, null])
    expect(owner).toMatchObject({ state: 'loaded', collapsed: false })
    expect(owner.entry?.negative).toBe(true)
    expect(joiner).toMatchObject({ state: 'loaded', collapsed: true })
    await cache.idle()
    const again: ReadStatus = {}
    expect(await cache.getOrSet('gone', () => 'never', undefined, { status: again })).toBeNull()
    expect(again).toMatchObject({ state: 'negative', tier: 0 })
  })

  it('fills get status too, with miss when nothing answers', async () => {
    const { cache } = twoTiers()
    const miss: ReadStatus = {}
    expect(await cache.get('k', { status: miss })).toBeUndefined()
    expect(miss).toMatchObject({ state: 'miss', tier: -1, entry: undefined })
    await cache.set('k', 'v')
    const hit: ReadStatus = {}
    expect(await cache.get('k', { status: hit })).toBe('v')
    expect(hit).toMatchObject({ state: 'fresh', tier: 0, tierName: 'l1' })
  })

  it('fills the status on the single-tier paths (direct load, joined load, L1 hit)', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' } })
    const gate = deferred<string>()
    const [a, b]: ReadStatus[] = [{}, {}]
    const first = cache.getOrSet('k', () => gate.promise, undefined, { status: a })
    const second = cache.getOrSet('k', () => 'never', undefined, { status: b })
    gate.resolve('v')
    expect(await Promise.all([first, second])).toEqual(['v', 'v'])
    expect(a).toMatchObject({ state: 'loaded', collapsed: false, stored: true })
    expect(b).toMatchObject({ state: 'loaded', collapsed: true, stored: true })
    const c: ReadStatus = {}
    await cache.getOrSet('k', () => 'never', undefined, { status: c })
    expect(c).toMatchObject({ state: 'fresh', tier: 0, tierName: 'memory' })
  })

  it('gives the caller its own copy of the entry', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' } })
    await cache.set('k', 'v')
    const status: ReadStatus = {}
    await cache.getOrSet('k', () => 'never', undefined, { status })
    ;(status.entry as { freshUntil: number }).freshUntil = 0
    expect(await cache.getOrSet('k', () => 'reloaded')).toBe('v')
  })

  it('rejects options that are not objects, naming them', () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' } })
    expect(() => cache.getOrSet('k', () => 1, undefined, 'fresh' as never)).toThrow(/options must be an object like \{ status \}, got string/)
    expect(() => cache.getOrSet('k', () => 1, undefined, { status: 1 as never })).toThrow(/options\.status must be an object/)
  })
})
