import { describe, expect, it } from 'vitest'
import { createCache } from '../cache.js'
import { memoryStore } from '../stores/memory.js'
import { HotKeyCounter, hotKeys } from './hot-keys.js'

describe('cache.hotKeys(n)', () => {
  it('lists the most read keys, hits and misses alike, most read first', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' }, strategies: [hotKeys({ track: 10 })] })
    const load = ({ key }: { key: string }) => key
    const reads: Record<string, number> = { 'product:1': 50, 'product:2': 30, 'product:3': 20, 'product:4': 5 }
    for (const [key, n] of Object.entries(reads)) for (let i = 0; i < n; i++) await cache.getOrSet(key, load)
    await cache.get('product:3')
    await cache.get('never-cached')
    expect(cache.hotKeys(3)).toEqual([
      { key: 'product:1', reads: 50 },
      { key: 'product:2', reads: 30 },
      { key: 'product:3', reads: 21 },
    ])
  })

  it('needs the strategy, and n within what is tracked', async () => {
    expect(() => createCache({ tiers: [memoryStore()] }).hotKeys(5)).toThrow(/cache.hotKeys\(\) needs createCache\({ strategies: \[hotKeys\(\)\] }\)/)
    const cache = createCache({ tiers: [memoryStore()], strategies: [hotKeys({ track: 10 })] })
    expect(() => cache.hotKeys(11)).toThrow(/n must be at most the 10 keys tracked/)
    expect(() => cache.hotKeys(-1)).toThrow(RangeError)
    expect(cache.hotKeys(0)).toEqual([])
    expect(() => hotKeys({ track: 0 })).toThrow(/options\.track must be an integer from 1 to 100000/)
    expect(() => createCache({ tiers: [memoryStore()], strategies: [{ name: 'hotKeys' }] })).toThrow(/options\.strategies must be an array of refreshAhead\(\), slidingExpiry\(\), hotKeys\(\)/)
  })

  it('counts the keys of getManyOrSet too, and a view made by withContext shares the counts', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' }, strategies: [hotKeys()] })
    await cache.getManyOrSet(['a', 'b', 'a'], (keys) => keys)
    await cache.withContext({ waitUntil: () => {} }).get('b')
    expect(cache.hotKeys(2)).toEqual([
      { key: 'a', reads: 2 },
      { key: 'b', reads: 2 },
    ])
  })
})

describe('HotKeyCounter', () => {
  it('keeps at most its capacity by name, and a key that turns popular later displaces the least read one', () => {
    const hot = new HotKeyCounter(3)
    for (const [key, n] of [['a', 10], ['b', 8], ['c', 6]] as const) for (let i = 0; i < n; i++) hot.record(key)
    for (let i = 0; i < 100_000; i++) hot.record(`once:${i}`) // a scan of one-time keys: never past the bar
    expect(hot.list(3).map((h) => h.key)).toEqual(['a', 'b', 'c'])
    for (let i = 0; i < 9; i++) hot.record('late')
    expect(hot.list(3).map((h) => h.key)).toEqual(['a', 'late', 'b'])
  })

  it('a key that leaves the list and comes back keeps counting from its reads, never below them', () => {
    const hot = new HotKeyCounter(1)
    for (let i = 0; i < 5; i++) hot.record('a') // kept by name from its first read
    for (let i = 0; i < 6; i++) hot.record('b') // passes a at its 6th read: a leaves with 5
    expect(hot.list(1)).toEqual([{ key: 'b', reads: 6 }])
    hot.record('a') // 6 reads: not past b
    expect(hot.list(1)).toEqual([{ key: 'b', reads: 6 }])
    hot.record('a')
    expect(hot.list(1)).toEqual([{ key: 'a', reads: 7 }])
  })

  it('estimates within a few reads on a skewed stream of 100,000 reads over 10,000 keys', () => {
    const hot = new HotKeyCounter(20)
    const counts = new Map<string, number>()
    let seed = 1
    const random = () => ((seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 4294967296
    for (let i = 0; i < 100_000; i++) {
      const key = `k${Math.floor(10_000 * random() ** 4)}`
      counts.set(key, (counts.get(key) ?? 0) + 1)
      hot.record(key)
    }
    const truth = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10)
    const listed = hot.list(10)
    // The true top 5 are listed, each count at or a little above the truth (collisions only add).
    for (const [key, count] of truth.slice(0, 5)) {
      const found = listed.find((h) => h.key === key)
      expect(found, key).toBeDefined()
      expect(found?.reads).toBeGreaterThanOrEqual(count)
      expect(found?.reads).toBeLessThanOrEqual(count + 20)
    }
  })
})
