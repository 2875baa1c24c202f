import { describe, expect, it } from 'vitest'
import { createCache } from '../cache.js'
import type { CacheEvent } from '../events.js'
import { memoryStore } from '../stores/memory.js'
import { manualClock } from '../test-support/helpers.js'
import { containsBytes, SerializingStore, type Keeping } from '../test-support/serializing-store.js'
import { createCodec, perTier } from './create-codec.js'
import { devalueSerializer } from './devalue.js'
import { msgpackSerializer } from './msgpack.js'
import { jsonSerializer, type Serializer } from './serializer.js'

const KEEPINGS: Keeping[] = ['text', 'bytes', 'clone']
const KEY_A = new Uint8Array(32).fill(7)
const KEY_B = new Uint8Array(32).fill(9)
const MARKER = 'MARKER-plaintext-4f2a'

function setup(codec: Parameters<typeof createCache>[0]['codec'], keeping: Keeping, store = new SerializingStore('shared', keeping)) {
  const clock = manualClock()
  const events: CacheEvent[] = []
  const cache = createCache({ tiers: [store], codec, now: clock.now, policy: { ttl: '1h' }, onEvent: (e) => events.push(e) })
  return { cache, store, events, errors: () => events.flatMap((e) => (e.type === 'error' ? [e.error.code] : [])) }
}

/** Values each serializer must give back exactly. */
const SAMPLES: Record<string, unknown> = {
  json: { name: MARKER, list: [1, 'two', { three: true }], nothing: null, n: 1.5 },
  devalue: (() => {
    const value: Record<string, unknown> = {
      name: MARKER,
      when: new Date(1_700_000_000_123),
      map: new Map<unknown, unknown>([['a', 1], [2, { b: [3] }]]),
      set: new Set(['x', 'y']),
      big: 2n ** 100n,
      bytes: new Uint8Array([0, 255, 10, 13]),
      floats: new Float64Array([1.5, -0]),
      missing: undefined,
      holes: [undefined, NaN, -Infinity],
      re: /a+b/gi,
    }
    value.self = value
    return value
  })(),
  msgpack: {
    name: MARKER,
    when: new Date(1_700_000_000_123),
    set: new Set(['x', 'y']),
    big: 2n ** 62n,
    bytes: new Uint8Array([0, 255, 10, 13]),
    missing: undefined,
    nan: NaN,
  },
}

const SERIALIZERS: [string, Serializer][] = [
  ['json', jsonSerializer],
  ['devalue', devalueSerializer],
  ['msgpack', msgpackSerializer()],
]

describe('serializers round-trip through every kind of store', () => {
  for (const [name, serializer] of SERIALIZERS) {
    for (const keeping of KEEPINGS) {
      for (const extra of ['plain', 'gzip', 'encrypted'] as const) {
        it(`${name} through a ${keeping} store, ${extra}`, async () => {
          const codec = createCodec({
            serializer,
            compression: extra === 'gzip' ? { threshold: 0 } : false,
            encryption: extra === 'encrypted' ? { keys: [{ id: 'k1', key: KEY_A }], current: 'k1' } : undefined,
          })
          const writer = setup(codec, keeping)
          // Compressed: large enough to gain from it.
          const value = extra === 'gzip' ? { sample: SAMPLES[name], pad: 'abc'.repeat(1000) } : SAMPLES[name]
          await writer.cache.set('k', value)
          // A second cache (another process) over the same store reads it back.
          const reader = setup(codec, keeping, writer.store)
          const got = await reader.cache.get('k')
          expect(got).toEqual(value)
          if (name === 'devalue') {
            const root = (extra === 'gzip' ? (got as { sample: unknown }).sample : got) as { self: unknown }
            expect(root.self).toBe(root)
          }
          expect(reader.errors()).toEqual([])
          const marker = containsBytes(writer.store.bytesOf(':k'), MARKER)
          if (extra !== 'plain') expect(marker).toBe(false)
          else if (name !== 'msgpack' || keeping !== 'text') expect(marker).toBe(true)
        })
      }
    }
  }

  it('a binary value is stored as bytes where the store keeps bytes, as base64 only in text', async () => {
    const value = new Uint8Array(3000).map((_, i) => (i * 7) % 256)
    for (const keeping of KEEPINGS) {
      const { cache, store } = setup(undefined, keeping)
      await cache.set('bin', value)
      const reader = setup(undefined, keeping, store)
      const got = await reader.cache.get('bin')
      expect(got).toBeInstanceOf(Uint8Array)
      expect(got).toEqual(value)
      const raw = store.raw.get(':bin')
      if (keeping === 'text') expect((raw as string).length).toBeGreaterThan(4000)
      if (keeping === 'bytes') expect((raw as Uint8Array).length).toBeLessThan(3000 + 200)
      if (keeping === 'clone') expect((raw as { value: unknown }).value).toBeInstanceOf(Uint8Array)
    }
    const buffer = new ArrayBuffer(8)
    const { cache, store } = setup(undefined, 'bytes')
    await cache.set('ab', buffer)
    expect(await setup(undefined, 'bytes', store).cache.get('ab')).toBeInstanceOf(ArrayBuffer)
  })

  it('JSON without compression or encryption keeps the readable format of today', async () => {
    const { cache, store } = setup(createCodec({ compression: { threshold: 10_000 } }), 'text')
    await cache.set('k', { a: 1 })
    expect(JSON.parse(store.raw.get(':k') as string)).toMatchObject({ v: 1, value: { a: 1 } })
    // ... and a cache without any codec reads it.
    expect(await setup(undefined, 'text', store).cache.get('k')).toEqual({ a: 1 })
  })
})

describe('an entry written another way is a miss, never a wrong value', () => {
  it('another serializer, no codec, or plain JSON under a structured codec', async () => {
    const devalue = createCodec({ serializer: devalueSerializer })
    const writer = setup(devalue, 'text')
    for (const other of [createCodec({ serializer: msgpackSerializer() }), createCodec(), undefined]) {
      await writer.cache.set('k', { when: new Date(5) })
      const reader = setup(other, 'text', writer.store)
      expect(await reader.cache.getOrSet('k', () => 'reloaded')).toBe('reloaded')
      expect(reader.errors()).toContain('CODEC_MISMATCH')
    }
    const plain = setup(undefined, 'text')
    await plain.cache.set('p', { a: 1 })
    const reader = setup(devalue, 'text', plain.store)
    expect(await reader.cache.get('p')).toBeUndefined()
    expect(reader.errors()).toEqual(['CODEC_MISMATCH'])
  })

  it('an entry with a codec is a miss for a 0.1 reader: its envelope version is 2', async () => {
    const { cache, store } = setup(createCodec({ serializer: devalueSerializer }), 'text')
    await cache.set('k', 1)
    expect(JSON.parse(store.raw.get(':k') as string)).toMatchObject({ v: 2, x: 'devalue.1' })
  })
})

describe('encryption at rest', () => {
  const encrypted = (keys: { id: string; key: Uint8Array | string }[], current: string) =>
    createCodec({ serializer: devalueSerializer, encryption: { keys, current } })

  it('no tier holds the plaintext', async () => {
    for (const keeping of KEEPINGS) {
      const { cache, store } = setup(encrypted([{ id: 'k1', key: KEY_A }], 'k1'), keeping)
      await cache.set('secret', { note: MARKER })
      expect(store.raw.has(':secret')).toBe(true)
      expect(containsBytes(store.bytesOf(':secret'), MARKER)).toBe(false)
    }
  })

  it('a tampered byte or an entry moved to another key fails authentication: a miss and an event', async () => {
    for (const keeping of ['text', 'bytes'] as const) {
      const { cache, store } = setup(encrypted([{ id: 'k1', key: KEY_A }], 'k1'), keeping)
      await cache.set('a', { note: MARKER })
      await cache.set('b', { note: 'other' })
      const reader = setup(encrypted([{ id: 'k1', key: KEY_A }], 'k1'), keeping, store)
      expect(await reader.cache.get('a')).toEqual({ note: MARKER })
      // Moved: b's stored data under a's key.
      store.raw.set(':a', store.raw.get(':b'))
      expect(await reader.cache.get('a')).toBeUndefined()
      expect(reader.errors()).toEqual(['DECRYPT_ERROR'])
      // Tampered: one bit of the ciphertext.
      const raw = store.raw.get(':b')
      if (typeof raw === 'string') {
        const envelope = JSON.parse(raw) as { value: string }
        const bytes = Uint8Array.from(atob(envelope.value), (c) => c.charCodeAt(0))
        bytes[bytes.length - 5]! ^= 1
        envelope.value = btoa(String.fromCharCode(...bytes))
        store.raw.set(':b', JSON.stringify(envelope))
      } else {
        const bytes = (raw as Uint8Array).slice()
        bytes[bytes.length - 5]! ^= 1
        store.raw.set(':b', bytes)
      }
      expect(await reader.cache.getOrSet('b', () => 'reloaded')).toBe('reloaded')
      expect(reader.errors()).toEqual(['DECRYPT_ERROR', 'DECRYPT_ERROR'])
    }
  })

  it('rotation: old entries stay readable while their key is listed, and are misses once it is removed', async () => {
    const store = new SerializingStore('shared', 'text')
    const old = setup(encrypted([{ id: 'k1', key: KEY_A }], 'k1'), 'text', store)
    await old.cache.set('a', 'written under k1')
    const rotated = setup(encrypted([{ id: 'k2', key: KEY_B }, { id: 'k1', key: KEY_A }], 'k2'), 'text', store)
    expect(await rotated.cache.get('a')).toBe('written under k1')
    await rotated.cache.set('b', 'written under k2')
    expect(JSON.parse(store.raw.get(':b') as string).x).toBe('devalue.1+aes-gcm.k2')
    const removed = setup(encrypted([{ id: 'k2', key: KEY_B }], 'k2'), 'text', store)
    expect(await removed.cache.get('a')).toBeUndefined()
    expect(await removed.cache.get('b')).toBe('written under k2')
    expect(removed.errors()).toEqual(['DECRYPT_ERROR'])
  })

  it('a wrong key under a listed id is a miss, and no event or message carries key material', async () => {
    const keyText = btoa(String.fromCharCode(...KEY_A))
    const writer = setup(encrypted([{ id: 'k1', key: keyText }], 'k1'), 'text')
    await writer.cache.set('a', MARKER)
    const wrong = setup(encrypted([{ id: 'k1', key: KEY_B }], 'k1'), 'text', writer.store)
    expect(await wrong.cache.getOrSet('a', () => 'reloaded')).toBe('reloaded')
    expect(wrong.errors()).toEqual(['DECRYPT_ERROR'])
    const said = JSON.stringify(wrong.events, (_, v: unknown) => (v instanceof Error ? { message: v.message, cause: String(v.cause) } : typeof v === 'bigint' ? String(v) : v))
    expect(said).not.toContain(keyText)
    expect(said).not.toContain(MARKER)
    expect(JSON.stringify(createCodec({ encryption: { keys: [{ id: 'k1', key: keyText }], current: 'k1' } }))).not.toContain(keyText)
  })

  it('encrypted entries are misses for a cache without the encryption, and clear ones for a cache with it', async () => {
    const writer = setup(encrypted([{ id: 'k1', key: KEY_A }], 'k1'), 'text')
    await writer.cache.set('a', 1)
    const clear = setup(createCodec({ serializer: devalueSerializer }), 'text', writer.store)
    expect(await clear.cache.get('a')).toBeUndefined()
    await clear.cache.set('c', 2)
    expect(await setup(encrypted([{ id: 'k1', key: KEY_A }], 'k1'), 'text', writer.store).cache.get('c')).toBeUndefined()
  })

  it('bad keys are refused when the codec is built, naming the option, never the key', () => {
    expect(() => createCodec({ encryption: { keys: [{ id: 'k1', key: new Uint8Array(20) }], current: 'k1' } })).toThrow(
      /options\.encryption\.keys\[0\]\.key must be 16 or 32 bytes/,
    )
    expect(() => createCodec({ encryption: { keys: [{ id: 'a b', key: KEY_A }], current: 'a b' } })).toThrow(RangeError)
    expect(() => createCodec({ encryption: { keys: [{ id: 'k1', key: KEY_A }], current: 'k2' } })).toThrow(/current must be the id/)
    expect(() => createCodec({ encryption: { keys: [], current: 'k1' } })).toThrow(TypeError)
  })

  it('the in-process memory tier stays in the clear; the shared tier is encrypted', async () => {
    const shared = new SerializingStore('shared', 'text')
    const memory = memoryStore()
    const cache = createCache({ tiers: [memory, shared], codec: encrypted([{ id: 'k1', key: KEY_A }], 'k1'), policy: { ttl: '1h' } })
    await cache.set('a', { note: MARKER })
    expect(memory.getSync(':a')?.value).toEqual({ note: MARKER })
    expect(containsBytes(shared.bytesOf(':a'), MARKER)).toBe(false)
    // perTier never asks about in-process tiers.
    const asked: string[] = []
    createCache({ tiers: [memory, shared], codec: perTier((store) => (asked.push(store.name), createCodec())) })
    expect(asked).toEqual(['shared'])
  })
})

describe('compression', () => {
  it('compresses values above the threshold, counts the bytes saved, and leaves small ones as they are', async () => {
    const { cache, store } = setup(createCodec({ compression: { threshold: 1024 } }), 'bytes')
    const big = { rows: Array.from({ length: 500 }, (_, i) => ({ id: i, name: `row number ${i}`, ok: true })) }
    await cache.set('big', big)
    await cache.set('small', { a: 1 })
    const json = JSON.stringify(big).length
    const stored = (store.raw.get(':big') as Uint8Array).length
    expect(stored).toBeLessThan(json / 4)
    expect(cache.stats().tiers[0]?.bytesSaved).toBeGreaterThan(json / 2)
    expect(typeof store.raw.get(':small')).toBe('string')
    const reader = setup(createCodec(), 'bytes', store)
    expect(await reader.cache.get('big')).toEqual(big)
  })
})

describe('size guard', () => {
  it('a value over maxValueBytes is not written to that tier, still answered, with an event', async () => {
    const small = new SerializingStore('small', 'text', 100)
    const large = new SerializingStore('large', 'text')
    const events: CacheEvent[] = []
    const cache = createCache({ tiers: [small, large], codec: createCodec(), policy: { ttl: '1h' }, onEvent: (e) => events.push(e) })
    expect(await cache.getOrSet('k', () => 'x'.repeat(500))).toBe('x'.repeat(500))
    await cache.idle()
    expect(small.raw.has(':k')).toBe(false)
    expect(large.raw.has(':k')).toBe(true)
    const error = events.find((e) => e.type === 'error')
    expect(error?.type === 'error' && [error.error.code, error.tier]).toEqual(['VALUE_TOO_LARGE', 'small'])
    const capped = setup(createCodec({ maxValueBytes: 10 }), 'text')
    await capped.cache.set('k', 'too long for ten bytes')
    expect(capped.store.raw.size).toBe(0)
    await capped.cache.set('k2', 'short')
    expect(capped.store.raw.size).toBe(1)
  })
})

describe('what a value may be', () => {
  it('follows the serializer: JSON refuses Dates, devalue takes them, class instances are refused by all', async () => {
    class Point {
      x = 1
    }
    await expect(setup(createCodec(), 'text').cache.set('k', { when: new Date() })).rejects.toThrow(TypeError)
    await expect(setup(createCodec({ serializer: devalueSerializer }), 'text').cache.set('k', { when: new Date() })).resolves.toBeUndefined()
    await expect(setup(createCodec({ serializer: devalueSerializer }), 'text').cache.set('k', { p: new Point() })).rejects.toThrow(
      /value\.p cannot be cached: Point instances/,
    )
    await expect(setup(createCodec({ serializer: msgpackSerializer() }), 'text').cache.set('k', { m: new Map() })).rejects.toThrow(/value\.m cannot be cached: Maps/)
  })
})
