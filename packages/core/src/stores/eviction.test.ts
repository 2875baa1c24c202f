import { describe, expect, it } from 'vitest'
import type { Entry } from '../entry.js'
import type { StoreEvent } from '../store.js'
import { manualClock } from '../test-support/helpers.js'
import { runStoreContract } from '../testing/store-contract.js'
import { type EvictionPolicy, grown } from './eviction.js'
import { FrequencySketch, hashKey } from './frequency-sketch.js'
import { memoryStore } from './memory.js'

const clock = manualClock()
const POLICIES: EvictionPolicy[] = ['lru', 'lfu', 'fifo']

for (const eviction of POLICIES) {
  runStoreContract({ name: `memoryStore({ eviction: '${eviction}' })`, create: () => memoryStore({ eviction, now: clock.now }), clock })
}

function entry(value: unknown, life = 60_000): Entry {
  const now = clock.now()
  return { value, createdAt: now, freshUntil: now + life, staleUntil: now + life }
}

/** A deterministic generator (mulberry32), so a failing sequence can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Reads `key` the way core does on a hit (getSync), writing it on a miss; true on a hit. */
function access(store: ReturnType<typeof memoryStore>, key: string): boolean {
  if (store.getSync(key) !== undefined) return true
  store.write(key, entry(key))
  return false
}

describe('memoryStore eviction', () => {
  it("rejects an unknown policy, naming the option and the choices", () => {
    expect(() => memoryStore({ eviction: 'random' as never })).toThrow(RangeError)
    expect(() => memoryStore({ eviction: 'random' as never })).toThrow(/options\.eviction must be 'lru', 'lfu' or 'fifo', got random/)
    expect(memoryStore().eviction).toBe('lru')
    expect(memoryStore({ eviction: 'lfu' }).eviction).toBe('lfu')
  })

  it('fifo: reads and overwrites do not save an entry from its turn', async () => {
    const store = memoryStore({ maxEntries: 3, eviction: 'fifo', now: clock.now })
    const evicted: string[] = []
    store.watch((e) => evicted.push(`${e.key}:${e.reason}`))
    for (const key of ['a', 'b', 'c']) await store.set(key, entry(key))
    await store.get('a')
    await store.set('a', entry('a2'))
    await store.set('d', entry('d'))
    expect(evicted).toEqual(['a:capacity'])
    expect(await store.get('a')).toBeUndefined()
    expect((await store.getMany(['b', 'c', 'd'])).map((e) => e?.value)).toEqual(['b', 'c', 'd'])
  })

  for (const eviction of ['lru', 'fifo'] as const) {
    it(`${eviction}: matches a reference model over 20,000 random operations`, () => {
      const store = memoryStore({ maxEntries: 50, eviction, now: clock.now })
      // The model: a Map in eviction order (first = next victim).
      const model = new Map<string, number>()
      const next = random(7)
      for (let i = 0; i < 20_000; i++) {
        const key = `k${Math.floor(next() * 120)}`
        const op = next()
        if (op < 0.5) {
          const found = store.peek(key)
          // Plain checks in the loop (expect() per step is slow on a loaded machine); the first mismatch throws.
          if (found?.value !== model.get(key)) expect({ step: i, key, value: found?.value }).toEqual({ step: i, key, value: model.get(key) })
          if (found !== undefined && eviction === 'lru') {
            model.delete(key)
            model.set(key, found.value as number)
          }
        } else if (op < 0.9) {
          store.write(key, entry(i))
          if (eviction === 'lru' || !model.has(key)) model.delete(key)
          model.set(key, i)
          if (model.size > 50) model.delete(model.keys().next().value as string)
        } else {
          void store.delete(key)
          model.delete(key)
        }
        if (store.size !== model.size) expect({ step: i, size: store.size }).toEqual({ step: i, size: model.size })
      }
    })
  }

  it('lfu: a scan of one-time keys ten times the capacity does not flush the frequently read set', () => {
    const lfu = memoryStore({ maxEntries: 100, eviction: 'lfu', now: clock.now })
    const lru = memoryStore({ maxEntries: 100, eviction: 'lru', now: clock.now })
    const hot = Array.from({ length: 80 }, (_, i) => `hot${i}`)
    for (let round = 0; round < 5; round++) for (const key of hot) (access(lfu, key), access(lru, key))
    for (let i = 0; i < 1_000; i++) (access(lfu, `scan${i}`), access(lru, `scan${i}`))
    const kept = (store: typeof lfu): number => hot.filter((key) => store.peek(key) !== undefined).length
    expect(kept(lru)).toBe(0)
    expect(kept(lfu)).toBe(80)
    expect(lfu.size).toBe(100)
  })

  it('lfu: a newcomer read more often than the entries it would replace gets in', () => {
    const store = memoryStore({ maxEntries: 100, eviction: 'lfu', now: clock.now })
    for (let i = 0; i < 100; i++) access(store, `old${i}`)
    // Read five times (each time it leaves the window it loses, but its count grows), it beats entries read once.
    for (let round = 0; round < 5; round++) {
      access(store, 'newcomer')
      for (let i = 0; i < 2; i++) access(store, `filler${round}-${i}`)
    }
    expect(store.peek('newcomer')?.value).toBe('newcomer')
    expect(store.size).toBe(100)
  })

  it('lfu: a set that stopped being read gives way to the new popular set (aging)', () => {
    const store = memoryStore({ maxEntries: 100, eviction: 'lfu', now: clock.now })
    const next = random(11)
    const phase = (prefix: string): void => {
      for (let i = 0; i < 20_000; i++) access(store, `${prefix}${Math.floor(next() * next() * 300)}`)
    }
    phase('first')
    phase('second')
    let first = 0
    let second = 0
    for (let i = 0; i < 300; i++) {
      if (store.peek(`first${i}`) !== undefined) first++
      if (store.peek(`second${i}`) !== undefined) second++
    }
    expect(second).toBeGreaterThan(90)
    expect(first).toBeLessThan(10)
  })

  it('lfu: a tie lets a warm newcomer in (read at least 3 times), never a one-time key', () => {
    const warm = memoryStore({ maxEntries: 100, eviction: 'lfu', now: clock.now })
    const once = memoryStore({ maxEntries: 100, eviction: 'lfu', now: clock.now })
    // Every resident read 3 times (warm) or once; then a newcomer read as often, its reads spread so that it leaves
    // the window between them and contests the main region's victim each time.
    for (let round = 0; round < 3; round++) for (let i = 0; i < 100; i++) access(warm, `old${i}`)
    for (let i = 0; i < 100; i++) access(once, `old${i}`)
    for (let round = 0; round < 3; round++) {
      access(warm, 'newcomer')
      access(warm, `filler${round}`)
    }
    access(once, 'newcomer')
    access(once, 'filler')
    expect(warm.peek('newcomer')?.value).toBe('newcomer')
    expect(once.peek('newcomer')).toBeUndefined()
    expect(warm.size).toBe(100)
    expect(once.size).toBe(100)
  })

  it('lfu: a rejected newcomer is reported as evicted for capacity, and the store stays at maxEntries', () => {
    const store = memoryStore({ maxEntries: 10, eviction: 'lfu', now: clock.now })
    const events: StoreEvent[] = []
    store.watch((e) => events.push(e))
    for (let round = 0; round < 10; round++) for (let i = 0; i < 10; i++) access(store, `k${i}`)
    for (let i = 0; i < 5; i++) access(store, `once${i}`)
    expect(store.size).toBe(10)
    expect(events.map((e) => e.reason)).toEqual(Array(5).fill('capacity'))
    // The window holds one entry here: each newcomer pushed the previous one out (the first pushed out the main
    // region's victim: the frequently read key that sat in the window ties with it, warm, and so wins).
    expect(events.slice(1).map((e) => e.key)).toEqual(['once0', 'once1', 'once2', 'once3'])
    expect(Array.from({ length: 10 }, (_, i) => store.peek(`k${i}`) !== undefined).filter(Boolean).length).toBeGreaterThanOrEqual(9)
  })

  for (const eviction of POLICIES) {
    it(`${eviction}: stays within maxEntries and maxBytes and serves only what was written last, under random load`, () => {
      const store = memoryStore({ maxEntries: 64, maxBytes: 20_000, sizeOf: (v) => (v as string).length, eviction, now: clock.now })
      const written = new Map<string, string>()
      const next = random(3)
      for (let i = 0; i < 30_000; i++) {
        const key = `k${Math.floor(next() * next() * 500)}`
        const op = next()
        if (op < 0.6) {
          const found = store.peek(key)
          if (found !== undefined && found.value !== written.get(key)) expect({ step: i, key, value: found.value }).toEqual({ step: i, key, value: written.get(key) })
        } else if (op < 0.95) {
          const value = `${i}`.padEnd(Math.floor(next() * 400), '.')
          store.write(key, entry(value))
          written.set(key, value)
        } else {
          void store.delete(key)
        }
        if (store.size > 64 || store.bytes > 20_000) expect({ step: i, size: store.size, bytes: store.bytes }).toEqual({ step: i, size: '<= 64', bytes: '<= 20000' })
      }
      expect(store.size).toBeGreaterThan(20)
    })

    it(`${eviction}: grows its arrays past the first allocation and keeps every entry`, () => {
      const store = memoryStore({ maxEntries: 5_000, eviction, now: clock.now })
      for (let i = 0; i < 5_000; i++) store.write(`k${i}`, entry(i))
      expect(store.size).toBe(5_000)
      for (let i = 0; i < 5_000; i += 251) expect(store.peek(`k${i}`)?.value).toBe(i)
      store.write('one-more', entry('x'))
      expect(store.size).toBe(5_000)
      store.clear()
      expect(store.size).toBe(0)
      for (let i = 0; i < 200; i++) store.write(`again${i}`, entry(i))
      expect(store.size).toBe(200)
      expect(store.peek('again199')?.value).toBe(199)
    })
  }
})

describe('grown', () => {
  it('keeps the contents, of the same type, and sets only the new items to the fill value', () => {
    const times = grown(Float64Array.of(1, Number.NaN, 3), 5, Number.NaN)
    expect(times).toBeInstanceOf(Float64Array)
    expect([...times]).toEqual([1, Number.NaN, 3, Number.NaN, Number.NaN])
    const links = grown(Int32Array.of(-1, 7), 4)
    expect(links).toBeInstanceOf(Int32Array)
    expect([...links]).toEqual([-1, 7, 0, 0])
  })
})

describe('FrequencySketch', () => {
  it('estimates counts, never below the true count, and saturates at 15', () => {
    const sketch = new FrequencySketch(1_000)
    const counts = new Map<number, number>()
    const next = random(5)
    for (let i = 0; i < 5_000; i++) {
      const key = Math.floor(next() * next() * 1_000)
      sketch.increment(hashKey(`k${key}`))
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    let exact = 0
    for (const [key, count] of counts) {
      const estimate = sketch.frequency(hashKey(`k${key}`))
      expect(estimate).toBeGreaterThanOrEqual(Math.min(count, 15))
      if (estimate === Math.min(count, 15)) exact++
    }
    // Overestimates come from collisions only, which 16 counters per key keep rare.
    expect(exact / counts.size).toBeGreaterThan(0.95)
    expect(sketch.frequency(hashKey('never seen'))).toBeLessThanOrEqual(1)
  })

  it('halves every count after 10 x capacity increments', () => {
    const sketch = new FrequencySketch(100)
    const hot = hashKey('hot')
    for (let i = 0; i < 12; i++) sketch.increment(hot)
    expect(sketch.frequency(hot)).toBe(12)
    let increments = 0
    for (let before = -1; sketch.additions > before; increments++) {
      before = sketch.additions
      sketch.increment(hashKey(`filler${increments}`))
    }
    // 12 counted, about 990 more until the sample of 1,000: then every counter was halved.
    expect(increments).toBeGreaterThan(950)
    expect(increments).toBeLessThanOrEqual(1_000)
    expect(sketch.frequency(hot)).toBe(6)
  })

  it('hashes nearby keys far apart', () => {
    const hashes = new Set(Array.from({ length: 10_000 }, (_, i) => hashKey(`user:${i}`) & 0xffff))
    expect(hashes.size).toBeGreaterThan(8_000)
  })
})
