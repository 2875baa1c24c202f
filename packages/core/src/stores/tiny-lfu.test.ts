import { describe, expect, it } from 'vitest'
import { TinyLfuOrder } from './tiny-lfu.js'

/** Replays `keys` through a TinyLfuOrder the way memoryStore drives one: a newcomer is added, then a victim leaves. */
function replay(order: TinyLfuOrder, maxEntries: number, keys: Iterable<string>, slots = new Map<string, number>()): number {
  const keyOf: string[] = []
  for (const [key, slot] of slots) keyOf[slot] = key
  const free = [...keyOf.keys()].filter((slot) => keyOf[slot] === undefined)
  let hits = 0
  for (const key of keys) {
    const slot = slots.get(key)
    if (slot !== undefined) {
      hits++
      order.used(slot)
      continue
    }
    const taken = free.pop() ?? keyOf.length
    keyOf[taken] = key
    slots.set(key, taken)
    order.added(taken, key)
    if (slots.size > maxEntries) {
      const victim = order.victim()
      order.removed(victim)
      slots.delete(keyOf[victim] as string)
      free.push(victim)
    }
  }
  return hits
}

/** Deterministic floats in [0, 1) (xorshift32), so every run replays the same trace. */
function random(seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 4294967296
  }
}

/** Zipf-like draws over `n` ranks (skew 1): rank r about 1 / (r + 1) as often as rank 0. */
function* zipfKeys(n: number, count: number, next: () => number, prefix = 'z'): Generator<string> {
  for (let i = 0; i < count; i++) yield `${prefix}${Math.floor(n ** next()) - 1}`
}

const MAX = 500
const MAIN = MAX - Math.max(1, Math.round(MAX * 0.01))

/** The protected share (of the main region) over the second half of `trace`, sampled every 500 reads. */
function shareOver(trace: Iterable<string>, length: number): { mean: number; low: number; high: number } {
  const order = new TinyLfuOrder(MAX + 1, MAX)
  const shares: number[] = []
  function* sampled(): Generator<string> {
    let n = 0
    for (const key of trace) {
      yield key
      if (++n > length / 2 && n % 500 === 0) shares.push(order.protectedMax / MAIN)
    }
  }
  replay(order, MAX, sampled())
  return { mean: shares.reduce((a, b) => a + b, 0) / shares.length, low: Math.min(...shares), high: Math.max(...shares) }
}

/** A steady popular set, a quarter of the reads being scans of one-time keys. */
function* frequencyHeavy(next: () => number): Generator<string> {
  for (let round = 0; round < 20; round++) {
    yield* zipfKeys(20_000, 6_000, next)
    for (let i = 0; i < 2_000; i++) yield `scan${round}:${i}`
  }
}

/** A popular set that moves every 8,000 reads: yesterday's keys are never read again. */
function* recencyHeavy(next: () => number): Generator<string> {
  for (let phase = 0; phase < 20; phase++) yield* zipfKeys(20_000, 8_000, next, `p${phase}:`)
}

describe('TinyLfuOrder: the protected share adapts on misses', () => {
  it('is high on a frequency-heavy trace and low on a recency-heavy one, starting from 0.8 on both', () => {
    const frequency = shareOver(frequencyHeavy(random(7)), 160_000)
    const recency = shareOver(recencyHeavy(random(11)), 160_000)
    expect(frequency.mean).toBeGreaterThan(0.88)
    expect(recency.mean).toBeLessThan(0.7)
    // Bounded whatever the trace: between half and 95% of the main region.
    for (const { low, high } of [frequency, recency]) {
      expect(low).toBeGreaterThanOrEqual(0.5 - 1 / MAIN)
      expect(high).toBeLessThanOrEqual(0.95)
    }
    // Under a second alone; the bound is for a loaded 2-core machine.
  }, 60_000)
})

describe('TinyLfuOrder: scans', () => {
  it("leaves a long scan's keys uncounted: the scan neither ages the hot set's counts nor lets one-time keys in", () => {
    const order = new TinyLfuOrder(MAX + 1, MAX)
    const slots = new Map<string, number>()
    const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`)
    const hot = range('hot', 400)
    // The hot set read 3 times, then 7 more between keys read once (misses with hits between them: no scan).
    for (let round = 0; round < 3; round++) replay(order, MAX, hot, slots)
    replay(order, MAX, range('once', 2_800).flatMap((key, i) => [hot[i % 400] as string, key]), slots)
    // A scan: 60,000 keys read once in a row, more increments than the sketch's sample (50,000) if they were counted.
    replay(order, MAX, range('scan', 60_000), slots)
    // 300 newcomers read 7 times each: fewer than the hot keys (10), more than half as often.
    for (let round = 0; round < 7; round++) replay(order, MAX, range('new', 300), slots)
    expect(hot.filter((key) => slots.has(key)).length).toBeGreaterThanOrEqual(400 - 10)
  })
})

describe('TinyLfuOrder: admission', () => {
  it('a key read once does not replace a resident, even one whose count aging has taken to 0', () => {
    const max = 5_000
    const order = new TinyLfuOrder(max + 1, max)
    const slots = new Map<string, number>()
    const residents = Array.from({ length: max }, (_, i) => `resident${i}`)
    // Each resident read once, then 120,000 keys read once: past the sketch's sample (50,000 increments) every count
    // is halved, the residents' 1 to 0, while each newcomer counts 1 (more where the sketch's counters collide).
    replay(order, max, residents, slots)
    replay(order, max, Array.from({ length: 120_000 }, (_, i) => `once${i}`), slots)
    // Admitted on a count of 1 (1 > 0), the newcomers would replace every resident; some still go, to newcomers whose
    // counters collide with others' (a count of 2 or more).
    expect(residents.filter((key) => slots.has(key)).length).toBeGreaterThan(max / 10)
  })
})
