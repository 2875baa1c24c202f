// Tenants sharing a store and a coordinator: whatever their namespaces, keys and tags, none reads or invalidates
// another's entries (stored key = escaped namespace + ':' + key, stored tag likewise).
import { describe, expect, it } from 'vitest'
import { createCache } from './cache.js'
import { memoryCoordinator } from './coordinator.js'
import { namespacePrefix } from './keys.js'
import { memoryStore, type MemoryStore } from './stores/memory.js'
import { manualClock } from './test-support/helpers.js'

function tenants(...namespaces: string[]) {
  const clock = manualClock()
  const shared: MemoryStore = memoryStore()
  const coordinator = memoryCoordinator({ now: clock.now })
  const caches = namespaces.map((namespace) => createCache({ tiers: [memoryStore(), shared], namespace, coordinator, now: clock.now, policy: { ttl: '1h' } }))
  return { clock, shared, caches }
}

describe('namespaces sharing a store', () => {
  it("namespace 'a' + key 'b:secret' and namespace 'a:b' + key 'secret' are two entries", async () => {
    const { shared, caches } = tenants('a', 'a:b')
    const [a, ab] = caches as [ReturnType<typeof createCache>, ReturnType<typeof createCache>]
    await a.set('b:secret', 'tenant a')
    expect(await ab.get('secret')).toBeUndefined()
    expect(await ab.getOrSet('secret', () => 'tenant a:b')).toBe('tenant a:b')
    expect(await a.get('b:secret')).toBe('tenant a')
    expect(shared.peek('a:b:secret')?.value).toBe('tenant a')
    expect(shared.peek('a%3Ab:secret')?.value).toBe('tenant a:b')
  })

  it("the empty namespace + key 'a:b' and namespace 'a' + key 'b' are two entries", async () => {
    const { caches } = tenants('', 'a')
    const [none, a] = caches as [ReturnType<typeof createCache>, ReturnType<typeof createCache>]
    await none.set('a:b', 'no namespace')
    expect(await a.get('b')).toBeUndefined()
    await a.set('b', 'namespace a')
    expect(await none.get('a:b')).toBe('no namespace')
  })

  it("'%' is escaped too: namespace 'a%3Ab' is not namespace 'a:b'", async () => {
    const { caches } = tenants('a%3Ab', 'a:b')
    const [percent, colon] = caches as [ReturnType<typeof createCache>, ReturnType<typeof createCache>]
    await percent.set('k', 'percent')
    expect(await colon.get('k')).toBeUndefined()
    expect(namespacePrefix('a%3Ab')).toBe('a%253Ab:')
    expect(namespacePrefix('a:b')).toBe('a%3Ab:')
  })

  it("invalidating tag 'c' in namespace 'a:b' leaves namespace 'a' entries tagged 'b:c' alone, and the reverse", async () => {
    const { clock, caches } = tenants('a', 'a:b')
    const [a, ab] = caches as [ReturnType<typeof createCache>, ReturnType<typeof createCache>]
    await a.getOrSet('x', () => 'a x', { ttl: '1h', tags: ['b:c'] })
    await ab.getOrSet('y', () => 'a:b y', { ttl: '1h', tags: ['c'] })
    clock.advance(10)
    await ab.invalidateTags(['c'])
    clock.advance(10)
    expect(await a.getOrSet('x', () => 'reloaded')).toBe('a x')
    expect(await ab.getOrSet('y', () => 'a:b y reloaded')).toBe('a:b y reloaded')
    await a.invalidateTags(['b:c'])
    clock.advance(10)
    expect(await a.getOrSet('x', () => 'a x reloaded')).toBe('a x reloaded')
    expect(await ab.getOrSet('y', () => 'again')).toBe('a:b y reloaded')
  })

  it('a key prefix inside a namespace cannot reach another namespace: a + "r:k" vs a:r + "k"', async () => {
    const { caches } = tenants('a', 'a:r')
    const [a, ar] = caches as [ReturnType<typeof createCache>, ReturnType<typeof createCache>]
    await ar.set('k', 'a:r')
    expect(await a.get('r:k')).toBeUndefined()
  })

  it('reports keys without the namespace in events', async () => {
    const seen: string[] = []
    const cache = createCache({ tiers: [memoryStore({ maxEntries: 1 })], namespace: 'x:y', policy: { ttl: '1h' }, onEvent: (e) => e.type === 'evict' && seen.push(e.key) })
    await cache.set('first', 1)
    await cache.set('second', 2)
    expect(seen).toEqual(['first'])
  })
})

describe('keys that are not well-formed UTF-16', () => {
  it('are rejected with a RangeError naming the argument, on every call that takes a key', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1h' } })
    const rule = /must be well-formed UTF-16 text: it has a lone surrogate/
    expect(() => cache.getOrSet('a\ud800', () => 1)).toThrow(RangeError)
    expect(() => cache.getOrSet('a\udbff', () => 1)).toThrow(/^key must be well-formed UTF-16/)
    await expect(cache.get('a\ud800')).rejects.toThrow(rule)
    await expect(cache.set('\udc00', 1)).rejects.toThrow(rule)
    await expect(cache.delete('x\ud800y')).rejects.toThrow(rule)
    await expect(cache.getManyOrSet(['ok', 'b\ud800'], (keys) => keys)).rejects.toThrow(/keys\[1\] must be well-formed UTF-16/)
    await expect(cache.invalidateTags(['t\ud800'])).rejects.toThrow(/tags\[0\] must be well-formed UTF-16/)
    expect(() => createCache({ tiers: [memoryStore()], namespace: 'n\ud800' })).toThrow(/options\.namespace must be well-formed UTF-16/)
    // A well-formed pair is fine, and stays rejected-free on later hits.
    expect(await cache.getOrSet('emoji \ud83d\ude00', () => 'ok')).toBe('ok')
    expect(await cache.getOrSet('emoji \ud83d\ude00', () => 'reloaded')).toBe('ok')
  })

  it('stay rejected on later calls (the check is not skipped once the key was seen)', () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1h' } })
    for (let i = 0; i < 3; i++) expect(() => cache.getOrSet('a\ud800', () => 1)).toThrow(RangeError)
  })
})

describe('the L1 slot remembered for a key', () => {
  it('is checked before use: a slot reused by another key after an eviction never answers for the old key', async () => {
    const l1 = memoryStore({ maxEntries: 1 })
    const cache = createCache({ tiers: [l1], policy: { ttl: '1h' } })
    expect(await cache.getOrSet('a', () => 'A')).toBe('A')
    expect(await cache.getOrSet('a', () => 'not again')).toBe('A')
    expect(await cache.getOrSet('b', () => 'B')).toBe('B')
    expect(await cache.getOrSet('a', () => 'A2')).toBe('A2')
    await cache.delete('a')
    await cache.set('b', 'B2')
    expect(await cache.getOrSet('b', () => 'no')).toBe('B2')
    expect(await cache.getOrSet('a', () => 'A3')).toBe('A3')
  })
})
