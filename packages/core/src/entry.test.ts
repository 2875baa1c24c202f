import { describe, expect, it } from 'vitest'
import { capEntry, createEntry, decodeEntry, encodeEntry, entryState, EntryState, ENTRY_VERSION, fromEnvelope, lastServable, type Entry } from './entry.js'
import { resolvePolicy } from './policy.js'

const policy = resolvePolicy({ ttl: 1000, swr: 500, staleIfError: 2000, negativeTtl: 100, tags: ['t'] }, undefined, 'policy', '')

describe('createEntry', () => {
  it('places the windows after the load start', () => {
    const e = createEntry({ a: 1 }, policy, 10_000, 25, () => 0.5)
    expect(e).toEqual({ value: { a: 1 }, createdAt: 10_000, freshUntil: 11_000, staleUntil: 11_500, errorUntil: 13_000, tags: ['t'], loadMs: 25 })
    expect(lastServable(e)).toBe(13_000)
  })

  it('marks null and undefined as negative entries living negativeTtl, without stale windows', () => {
    for (const value of [null, undefined]) {
      const e = createEntry(value, policy, 10_000, 5, Math.random)
      expect(e).toEqual({ value: null, createdAt: 10_000, freshUntil: 10_100, staleUntil: 10_100, negative: true, tags: ['t'] })
    }
  })

  it('jitter only shortens the fresh lifetime, by at most the fraction', () => {
    const jittered = resolvePolicy({ ttl: 1000, jitter: 0.2 }, undefined, 'policy', '')
    expect(createEntry(1, jittered, 0, 0, () => 0).freshUntil).toBe(1000)
    expect(createEntry(1, jittered, 0, 0, () => 0.999999).freshUntil).toBeCloseTo(800, 2)
    let min = Infinity
    let max = -Infinity
    for (let i = 0; i < 2000; i++) {
      const fresh = createEntry(1, jittered, 0, 0, Math.random).freshUntil
      min = Math.min(min, fresh)
      max = Math.max(max, fresh)
    }
    expect(min).toBeGreaterThanOrEqual(800)
    expect(max).toBeLessThanOrEqual(1000)
    // Spread, not a constant: 2000 draws cover most of the range.
    expect(max - min).toBeGreaterThan(150)
  })
})

describe('entryState', () => {
  const e = createEntry('v', policy, 0, 0, Math.random)
  it.each([
    [0, EntryState.Fresh],
    [999, EntryState.Fresh],
    [1000, EntryState.Stale],
    [1499, EntryState.Stale],
    [1500, EntryState.ErrorStale],
    [2999, EntryState.ErrorStale],
    [3000, EntryState.Dead],
  ])('at %d ms is %d', (now, state) => {
    expect(entryState(e, now)).toBe(state)
  })
})

describe('capEntry', () => {
  it('ends every window by the cap, leaving entries within it untouched', () => {
    const e = createEntry('v', policy, 0, 0, Math.random)
    expect(capEntry(e, 5000)).toBe(e)
    expect(capEntry(e, 1200)).toMatchObject({ freshUntil: 1000, staleUntil: 1200, errorUntil: 1200 })
    expect(capEntry(e, 400)).toMatchObject({ freshUntil: 400, staleUntil: 400, errorUntil: 400 })
    expect(e.freshUntil).toBe(1000)
  })
})

describe('envelopes', () => {
  const e: Entry = { value: { n: 1 }, createdAt: 1, freshUntil: 2, staleUntil: 3, errorUntil: 4, tags: ['x'], loadMs: 7, stamp: 5 }

  it('round-trip through JSON text', () => {
    expect(decodeEntry(encodeEntry(e))).toEqual(e)
    expect(JSON.parse(encodeEntry(e))).toMatchObject({ g: 5 })
    const negative: Entry = { value: null, createdAt: 1, freshUntil: 2, staleUntil: 2, negative: true }
    expect(decodeEntry(encodeEntry(negative))).toEqual(negative)
  })

  it('carry the format version', () => {
    expect(JSON.parse(encodeEntry(e)).v).toBe(ENTRY_VERSION)
  })

  it('start with the tags, where a Redis script finds them without decoding the value', () => {
    expect(encodeEntry(e).startsWith('{"t":["x"],"v":1,')).toBe(true)
    expect(encodeEntry({ ...e, tags: undefined }).startsWith('{"v":1,')).toBe(true)
  })

  it('without a stamp (written by 0.1) decode as before', () => {
    const { g: _, ...old } = JSON.parse(encodeEntry(e))
    expect(fromEnvelope(old)).toEqual({ ...e, stamp: undefined })
    expect('stamp' in (fromEnvelope(old) as Entry)).toBe(false)
  })

  it('decode anything else as undefined, never throwing', () => {
    const valid = JSON.parse(encodeEntry(e))
    for (const bad of [
      'not json',
      '{"v":1}',
      JSON.stringify({ ...valid, v: 2 }),
      JSON.stringify({ ...valid, c: 'x' }),
      JSON.stringify({ ...valid, f: 0 }),
      JSON.stringify({ ...valid, s: 1 }),
      JSON.stringify({ ...valid, t: [1] }),
      JSON.stringify({ ...valid, n: 1 }),
      JSON.stringify({ ...valid, g: -1 }),
      JSON.stringify({ ...valid, g: '5' }),
      '42',
      'null',
      42,
      null,
      undefined,
    ]) {
      expect(decodeEntry(bad)).toBeUndefined()
    }
    expect(fromEnvelope(valid)).toEqual(e)
  })
})
