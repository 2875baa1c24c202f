import { describe, expect, it, vi } from 'vitest'
import type { Entry } from '../entry.js'
import type { StoreEvent } from '../store.js'
import { manualClock } from '../test-support/helpers.js'
import { runStoreContract } from '../testing/store-contract.js'
import { hashKey } from './frequency-sketch.js'
import { memoryStore } from './memory.js'

const clock = manualClock()
runStoreContract({ name: 'memoryStore (injected clock)', create: () => memoryStore({ now: clock.now }), clock })
runStoreContract({ name: 'memoryStore (real clock)', create: () => memoryStore() })

function entry(value: unknown, now = clock.now(), life = 60_000): Entry {
  return { value, createdAt: now, freshUntil: now + life, staleUntil: now + life }
}

describe('memoryStore', () => {
  it('evicts the least recently used entry at maxEntries, counting reads as use', async () => {
    const store = memoryStore({ maxEntries: 3, now: clock.now })
    const evicted: StoreEvent[] = []
    store.watch((event) => evicted.push(event))
    for (const key of ['a', 'b', 'c']) await store.set(key, entry(key))
    await store.get('a') // a is now the most recent; b the least
    await store.set('d', entry('d'))
    expect(await store.get('b')).toBeUndefined()
    expect((await store.get('a'))?.value).toBe('a')
    expect(store.size).toBe(3)
    expect(evicted).toEqual([{ type: 'evict', key: 'b', reason: 'capacity' }])
  })

  it('grows past its initial arrays and keeps every entry intact', async () => {
    const store = memoryStore({ maxEntries: 1000, now: clock.now })
    for (let i = 0; i < 1000; i++) store.write(`k${i}`, { ...entry(i), errorUntil: clock.now() + 1e6, tags: [`t${i}`], loadMs: i })
    expect(store.size).toBe(1000)
    for (let i = 0; i < 1000; i += 97) {
      expect(await store.get(`k${i}`)).toEqual({ ...entry(i), errorUntil: clock.now() + 1e6, tags: [`t${i}`], loadMs: i })
    }
    store.write('one-more', entry('x'))
    expect(store.size).toBe(1000)
    expect(await store.get('k1')).toBeUndefined()
  })

  it('keeps tags and errorUntil per entry when their columns are made after other entries, across growth, reuse and clear', async () => {
    const store = memoryStore({ maxEntries: 500, now: clock.now })
    const plain = (i: number): Entry => entry(`plain${i}`)
    const full = (i: number): Entry => ({ ...entry(`full${i}`), errorUntil: clock.now() + 1e6 + i, tags: [`t${i}`] })
    // Plain entries first (no tags/errorUntil column yet), past the first allocation; then mixed, then slots reused.
    for (let i = 0; i < 100; i++) store.write(`p${i}`, plain(i))
    for (let i = 0; i < 300; i++) store.write(`f${i}`, full(i))
    for (let i = 100; i < 200; i++) store.write(`p${i}`, plain(i))
    for (let i = 0; i < 300; i += 2) await store.delete(`f${i}`)
    for (let i = 200; i < 350; i++) store.write(`p${i}`, plain(i))
    // A slot that held a tagged entry now holds a plain one, and the other way round.
    store.write('f1', plain(-1))
    store.write('p0', full(-1))
    const expected = (key: string): Entry | undefined => {
      if (key === 'f1') return plain(-1)
      if (key === 'p0') return full(-1)
      const i = Number(key.slice(1))
      if (key.startsWith('p')) return plain(i)
      return i % 2 === 0 ? undefined : full(i)
    }
    const keys = [...Array.from({ length: 350 }, (_, i) => `p${i}`), ...Array.from({ length: 300 }, (_, i) => `f${i}`)]
    for (const key of keys) {
      const want = expected(key)
      expect(await store.get(key)).toEqual(want)
      const view = store.getSync(key)
      expect(view === undefined ? undefined : { tags: view.tags, errorUntil: view.errorUntil, value: view.value }).toEqual(
        want === undefined ? undefined : { tags: want.tags, errorUntil: want.errorUntil, value: want.value },
      )
    }
    store.clear()
    store.write('after', plain(0))
    expect(await store.get('after')).toEqual(plain(0))
    expect(store.getSync('after')?.tags).toBeUndefined()
    expect(store.getSync('after')?.errorUntil).toBeUndefined()
  })

  it('reuses freed slots without mixing up entries', async () => {
    const store = memoryStore({ maxEntries: 4, now: clock.now })
    for (const key of ['a', 'b', 'c']) await store.set(key, entry(key))
    await store.delete('b')
    await store.set('x', { ...entry('x'), negative: true, value: null })
    await store.set('y', entry('y'))
    expect((await store.getMany(['a', 'b', 'c', 'x', 'y'])).map((e) => e?.value)).toEqual(['a', undefined, 'c', null, 'y'])
    expect((await store.get('x'))?.negative).toBe(true)
    expect((await store.get('y'))?.negative).toBeUndefined()
  })

  it('keeps the estimated size under maxBytes by evicting from the cold end', async () => {
    const store = memoryStore({ maxBytes: 10_000, now: clock.now })
    const big = 'x'.repeat(1_000) // about 2 KB each
    const evicted: string[] = []
    store.watch((e) => evicted.push(`${e.key}:${e.reason}`))
    for (let i = 0; i < 10; i++) await store.set(`k${i}`, entry(big))
    expect(store.bytes).toBeLessThanOrEqual(10_000)
    expect(store.size).toBeLessThan(10)
    expect(evicted[0]).toBe('k0:size')
    expect((await store.get('k9'))?.value).toBe(big)
  })

  it('drops a single entry larger than maxBytes instead of keeping it', async () => {
    const store = memoryStore({ maxBytes: 100, now: clock.now })
    await store.set('huge', entry('x'.repeat(1_000)))
    expect(await store.get('huge')).toBeUndefined()
    expect(store.bytes).toBe(0)
  })

  it('tracks bytes through overwrites and deletes', async () => {
    const store = memoryStore({ maxBytes: 1e6, sizeOf: () => 100, now: clock.now })
    await store.set('a', entry(1))
    const one = store.bytes
    await store.set('a', entry(2))
    expect(store.bytes).toBe(one)
    await store.set('b', entry(3))
    expect(store.bytes).toBe(2 * one)
    await store.delete('a')
    expect(store.bytes).toBe(one)
    store.clear()
    expect(store.bytes).toBe(0)
    await store.set('c', entry(4))
    expect(store.bytes).toBe(one)
  })

  it('reports expired entries it drops on read', async () => {
    const store = memoryStore({ now: clock.now })
    const events: StoreEvent[] = []
    store.watch((e) => events.push(e))
    await store.set('short', entry('v', clock.now(), 10))
    clock.advance(10)
    expect(await store.get('short')).toBeUndefined()
    expect(events).toEqual([{ type: 'evict', key: 'short', reason: 'expired' }])
  })

  it('validates its options', () => {
    expect(() => memoryStore({ maxEntries: 0 })).toThrow(/options\.maxEntries must be a positive integer/)
    expect(() => memoryStore({ maxEntries: 1.5 })).toThrow(RangeError)
    expect(() => memoryStore({ maxBytes: -1 })).toThrow(/options\.maxBytes must be a positive number/)
    expect(() => memoryStore({ maxTtl: '-1s' })).toThrow(/options\.maxTtl must be a duration/)
    expect(() => memoryStore({ maxTtl: 0 })).toThrow(/options\.maxTtl must be greater than 0/)
    expect(() => memoryStore({ sizeOf: 5 as never })).toThrow(TypeError)
    expect(memoryStore({ maxTtl: '10s' }).maxTtl).toBe(10_000)
  })
})

describe('memoryStore index', () => {
  /** A store whose index seed is known (Math.random() = 0.5 while it is built), so tests can place keys in it. */
  function seeded(maxEntries: number) {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5)
    try {
      return memoryStore({ maxEntries, now: clock.now })
    } finally {
      random.mockRestore()
    }
  }

  it('finds every key of a long probe run that wraps past the end of its cells after deletes from the middle of the run', async () => {
    const store = seeded(10)
    // 11 slots, 32 cells; the seed the store drew from Math.random() = 0.5.
    const home = (key: string) => hashKey(key, (0.5 * 0x100000000) | 0) & 31
    const keys: string[] = []
    // Keys whose probes start at cell 29 or 30 and so run on into cells 31, 0, 1, ..., with one that starts at 0.
    for (let i = 0; keys.length < 6; i++) if (home(`w${i}`) === 29 + (keys.length % 2)) keys.push(`w${i}`)
    for (let i = 0; keys.length < 8; i++) if (home(`z${i}`) === 0) keys.push(`z${i}`)
    for (const key of keys) await store.set(key, entry(key))
    await store.delete(keys[1] as string)
    await store.delete(keys[4] as string)
    const left = keys.filter((_, i) => i !== 1 && i !== 4)
    for (const key of left) expect((await store.get(key))?.value).toBe(key)
    expect(await store.get(keys[1] as string)).toBeUndefined()
    expect(await store.get(keys[4] as string)).toBeUndefined()
    expect(store.size).toBe(6)
    // Re-added after the deletes, and a reused slot: still found, once each.
    await store.set(keys[1] as string, entry('again'))
    await store.set(keys[6] as string, entry('over'))
    expect((await store.get(keys[1] as string))?.value).toBe('again')
    expect((await store.get(keys[6] as string))?.value).toBe('over')
    expect(store.size).toBe(7)
  })

  it('matches a model over 30,000 random writes, reads and deletes of 3,000 keys, across growth and clear', () => {
    const store = seeded(4_000)
    const model = new Map<string, number>()
    // Half the reads go through getSync with a hint naming the key, as core's do: the key slot then holds the hint.
    const hints = new Map<string, { slot: number; full: string }>()
    let s = 11
    const next = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0
      return s / 0x100000000
    }
    for (let i = 0; i < 30_000; i++) {
      const key = `key:${Math.floor(next() * 3_000)}`
      const op = next()
      if (op < 0.4) {
        let hint = hints.get(key)
        if (hint === undefined) hints.set(key, (hint = { slot: -1, full: key }))
        const found = op < 0.2 ? store.peek(key)?.value : store.getSync(key, hint)?.value
        // Plain checks in the loop (expect() per step is slow on a loaded machine); the first mismatch throws.
        if (found !== model.get(key)) expect({ step: i, key, found }).toEqual({ step: i, key, found: model.get(key) })
      } else if (op < 0.75) {
        store.write(key, entry(i))
        model.set(key, i)
      } else {
        void store.delete(key)
        model.delete(key)
      }
      if (i === 20_000) {
        store.clear()
        model.clear()
      }
      if (store.size !== model.size) expect({ step: i, size: store.size }).toEqual({ step: i, size: model.size })
    }
    for (const [key, value] of model) expect(store.peek(key)?.value).toBe(value)
  })
})

describe('getSync with a hint', () => {
  it('notes the slot, uses it while it still holds the key, and looks the key up again once it moved or went', () => {
    const store = memoryStore({ maxEntries: 1 })
    const e = (value: string) => ({ value, createdAt: 0, freshUntil: Number.MAX_SAFE_INTEGER, staleUntil: Number.MAX_SAFE_INTEGER })
    store.write('a', e('A'), 0)
    const hint = { slot: -1 }
    expect(store.getSync('a', hint)?.value).toBe('A')
    expect(hint.slot).toBeGreaterThanOrEqual(0)
    expect(store.getSync('a', hint)?.value).toBe('A')
    // 'b' evicts 'a' and takes its slot: the note must not answer for 'a'.
    store.write('b', e('B'), 0)
    expect(store.getSync('a', hint)).toBeUndefined()
    expect(hint.slot).toBe(-1)
    expect(store.getSync('b', { slot: 0 })?.value).toBe('B')
    expect(store.getSync('b', { slot: 5 })?.value).toBe('B')
  })

  it('trusts a note only while its slot was last found through that same note (delete, clear, two notes per key)', async () => {
    const store = memoryStore({ maxEntries: 4 })
    const e = (value: string) => ({ value, createdAt: 0, freshUntil: Number.MAX_SAFE_INTEGER, staleUntil: Number.MAX_SAFE_INTEGER })
    store.write('a', e('A1'), 0)
    const hint = { slot: -1 }
    expect(store.getSync('a', hint)?.value).toBe('A1')
    const slot = hint.slot
    // 'a' goes, 'b' takes its freed slot, 'a' comes back elsewhere: the old note must lead to 'a', not to 'b'.
    await store.delete('a')
    store.write('b', e('B'), 0)
    store.write('a', e('A2'), 0)
    expect(store.getSync('a', hint)?.value).toBe('A2')
    expect(hint.slot).not.toBe(slot)
    // Another note for the same key (another cache's memo) takes the slot over; both keep answering.
    const other = { slot: -1 }
    expect(store.getSync('a', other)?.value).toBe('A2')
    expect(store.getSync('a', hint)?.value).toBe('A2')
    expect(store.getSync('b', { slot: hint.slot })?.value).toBe('B')
    store.clear()
    expect(store.getSync('a', hint)).toBeUndefined()
    store.write('c', e('C'), 0)
    expect(store.getSync('a', hint)).toBeUndefined()
    expect(store.getSync('a', other)).toBeUndefined()
  })

  it('keeps a hint that names its key (as those of core do) in place of the key: evictions, deletes and reads still find the key', async () => {
    const store = memoryStore({ maxEntries: 2 })
    const evicted: StoreEvent[] = []
    store.watch((event) => evicted.push(event))
    const e = (value: string) => ({ value, createdAt: 0, freshUntil: Number.MAX_SAFE_INTEGER, staleUntil: Number.MAX_SAFE_INTEGER })
    store.write('a', e('A'), 0)
    store.write('b', e('B'), 0)
    const a = { slot: -1, full: 'a' }
    const b = { slot: -1, full: 'b' }
    // A hint naming another key is only a place for the slot: it must not stand for 'b'.
    const wrong = { slot: -1, full: 'not b' }
    expect(store.getSync('b', wrong)?.value).toBe('B')
    expect(store.getSync('b', b)?.value).toBe('B')
    expect(store.getSync('a', a)?.value).toBe('A')
    // 'b' is the least recently used; its slot holds the hint now, and the eviction still names 'b'.
    store.write('c', e('C'), 0)
    expect(evicted).toEqual([{ type: 'evict', key: 'b', reason: 'capacity' }])
    expect(store.getSync('b', b)).toBeUndefined()
    expect(store.getSync('b', wrong)).toBeUndefined()
    expect((await store.get('a'))?.value).toBe('A')
    await store.delete('a')
    expect(store.getSync('a', a)).toBeUndefined()
    expect(await store.get('a')).toBeUndefined()
    expect(store.size).toBe(1)
    store.write('a', e('A2'), 0)
    expect(store.getSync('a', a)?.value).toBe('A2')
  })
})
