import { createCache, type CacheEvent, type Store } from '@tiercache/core'
import { createCodec, jsonSerializer, type Serializer } from '@tiercache/core/codec'
import { devalueSerializer } from '@tiercache/core/devalue'
import { msgpackSerializer } from '@tiercache/core/msgpack'
import { upstashStore } from '@tiercache/edge'
import { Redis as Upstash } from '@upstash/redis'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { redisStore } from '../src/index.js'

// Serializers, compression and encryption through the real backends: redisStore over TCP (bytes) and the real
// @upstash/redis client over HTTP (text), both on one redis-server; the raw stored data is read back with ioredis.
let upstash: Upstash
let tcp: Redis
beforeAll(async () => {
  upstash = new Upstash({ url: inject('UPSTASH_TEST_URL'), token: inject('UPSTASH_TEST_TOKEN'), signal: () => AbortSignal.timeout(5_000) })
  tcp = new Redis(inject('REDIS_URL'), { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  await new Promise((resolve) => tcp.once('ready', resolve))
})
afterAll(async () => {
  await tcp?.quit()
})

const MARKER = 'MARKER-plaintext-9c1e'
const KEY = new Uint8Array(32).map((_, i) => i * 11)
let serial = 0
const ns = (): string => `codec${process.pid}n${++serial}`

const SAMPLES: [string, Serializer, unknown][] = [
  ['json', jsonSerializer, { note: MARKER, list: [1, 'two', null], n: 2.5 }],
  [
    'devalue',
    devalueSerializer,
    { note: MARKER, when: new Date(1_700_000_000_000), map: new Map([['a', new Set([1n])]]), bytes: new Uint8Array([0, 255]), gone: undefined },
  ],
  ['msgpack', msgpackSerializer(), { note: MARKER, when: new Date(1_700_000_000_000), set: new Set(['x']), big: 2n ** 60n, bytes: new Uint8Array([0, 255]) }],
]

const STORES: [string, () => Store][] = [
  ['redis (TCP, bytes)', () => redisStore({ client: tcp, breaker: false })],
  ['upstash (HTTP, text)', () => upstashStore({ redis: upstash })],
]

function cacheOver(store: Store, codec: ReturnType<typeof createCodec> | undefined, namespace: string, events: CacheEvent[] = []) {
  // tierTimeout generous (default 1 s): on a loaded CI machine a slow round trip must not become the 'error' event
  // the tests assert absent (and a lost value); they are about encodings, not timeouts.
  return createCache({ tiers: [store], codec, namespace, policy: { ttl: '1m' }, tierTimeout: '30s', onEvent: (e) => events.push(e) })
}

async function raw(namespace: string, key: string): Promise<Buffer> {
  const found = await tcp.keys(`tc:v:${namespace}:${key}`)
  expect(found).toHaveLength(1)
  return (await tcp.getBuffer(found[0] as string)) as Buffer
}

describe.each(STORES)('%s', (_, makeStore) => {
  for (const [name, serializer, sample] of SAMPLES) {
    for (const extra of ['plain', 'gzip', 'encrypted'] as const) {
      it(`${name}, ${extra}: another process reads back the same value`, async () => {
        const codec = createCodec({
          serializer,
          compression: extra === 'gzip' ? { threshold: 0 } : false,
          encryption: extra === 'encrypted' ? { keys: [{ id: 'k1', key: KEY }], current: 'k1' } : undefined,
        })
        const namespace = ns()
        const value = extra === 'gzip' ? { sample, pad: 'xyz'.repeat(2000) } : sample
        await cacheOver(makeStore(), codec, namespace).set('k', value)
        const events: CacheEvent[] = []
        expect(await cacheOver(makeStore(), codec, namespace, events).get('k')).toEqual(value)
        expect(events.filter((e) => e.type === 'error')).toEqual([])
        const stored = await raw(namespace, 'k')
        if (extra !== 'plain') expect(stored.includes(MARKER)).toBe(false)
        if (extra === 'gzip') expect(stored.length).toBeLessThan(2000)
      })
    }
  }

  it('encrypted: a tampered byte and an entry moved to another key are misses with DECRYPT_ERROR; a removed key too', async () => {
    const codec = createCodec({ encryption: { keys: [{ id: 'k1', key: KEY }], current: 'k1' } })
    const namespace = ns()
    const writer = cacheOver(makeStore(), codec, namespace)
    await writer.set('a', { note: MARKER })
    await writer.set('b', { note: 'b' })
    const [a] = await tcp.keys(`tc:v:${namespace}:a`)
    const [b] = await tcp.keys(`tc:v:${namespace}:b`)
    // Moved: b's stored bytes under a's key.
    await tcp.set(a as string, (await tcp.getBuffer(b as string)) as Buffer, 'PX', 60_000)
    const events: CacheEvent[] = []
    const reader = cacheOver(makeStore(), codec, namespace, events)
    expect(await reader.getOrSet('a', () => 'reloaded a')).toBe('reloaded a')
    // Tampered: one byte of the ciphertext (raw after the JSON header, or one base64 character inside the text).
    const stored = (await tcp.getBuffer(b as string)) as Buffer
    if (stored.includes(10)) {
      stored[stored.length - 8] = (stored[stored.length - 8] as number) ^ 1
      await tcp.set(b as string, stored, 'PX', 60_000)
    } else {
      const envelope = JSON.parse(stored.toString('utf8')) as { value: string }
      const at = envelope.value.length >> 1
      envelope.value = envelope.value.slice(0, at) + (envelope.value[at] === 'A' ? 'B' : 'A') + envelope.value.slice(at + 1)
      await tcp.set(b as string, JSON.stringify(envelope), 'PX', 60_000)
    }
    expect(await reader.getOrSet('b', () => 'reloaded b')).toBe('reloaded b')
    const removed = cacheOver(makeStore(), createCodec({ encryption: { keys: [{ id: 'k2', key: new Uint8Array(32) }], current: 'k2' } }), namespace, events)
    expect(await removed.getOrSet('a', () => 'reloaded again')).toBe('reloaded again')
    expect(events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []))).toEqual(['DECRYPT_ERROR', 'DECRYPT_ERROR', 'DECRYPT_ERROR'])
  })

  it('rotation: entries under the old key stay readable while it is listed', async () => {
    const namespace = ns()
    await cacheOver(makeStore(), createCodec({ encryption: { keys: [{ id: 'old', key: KEY }], current: 'old' } }), namespace).set('k', MARKER)
    const rotated = createCodec({ encryption: { keys: [{ id: 'new', key: new Uint8Array(16).fill(3) }, { id: 'old', key: KEY }], current: 'new' } })
    expect(await cacheOver(makeStore(), rotated, namespace).get('k')).toBe(MARKER)
  })
})

describe('binary values on Redis', () => {
  it('redisStore keeps them as raw bytes, upstashStore as base64 text; each reads its own', async () => {
    const value = new Uint8Array(4096).map((_, i) => (i * 31) % 256)
    const namespace = ns()
    await cacheOver(redisStore({ client: tcp, breaker: false }), undefined, `${namespace}t`).set('bin', value)
    await cacheOver(upstashStore({ redis: upstash }), undefined, `${namespace}u`).set('bin', value)
    const tcpRaw = await raw(`${namespace}t`, 'bin')
    const httpRaw = await raw(`${namespace}u`, 'bin')
    expect(tcpRaw.length).toBeLessThan(4096 + 200)
    expect(httpRaw.length).toBeGreaterThan((4096 * 4) / 3)
    expect(await cacheOver(redisStore({ client: tcp, breaker: false }), undefined, `${namespace}t`).get('bin')).toEqual(value)
    expect(await cacheOver(upstashStore({ redis: upstash }), undefined, `${namespace}u`).get('bin')).toEqual(value)
  })

  it('a raw-bytes entry is a miss over HTTP, never a wrong value; with bytes: false both protocols read it', async () => {
    const value = new Uint8Array([0, 200, 255, 10, 1])
    const namespace = ns()
    await cacheOver(redisStore({ client: tcp, breaker: false }), undefined, namespace).set('bin', value)
    expect(await cacheOver(upstashStore({ redis: upstash }), undefined, namespace).get('bin')).toBeUndefined()
    await cacheOver(redisStore({ client: tcp, breaker: false, bytes: false }), undefined, namespace).set('text', value)
    expect(await cacheOver(upstashStore({ redis: upstash }), undefined, namespace).get('text')).toEqual(value)
    expect(await cacheOver(redisStore({ client: tcp, breaker: false }), undefined, namespace).get('text')).toEqual(value)
  })
})
