import { createCache, type CacheEvent, type Store } from '@tiercache/core'
import { createCodec, jsonSerializer, type Serializer } from '@tiercache/core/codec'
import { devalueSerializer } from '@tiercache/core/devalue'
import { msgpackSerializer } from '@tiercache/core/msgpack'
import { startMemcached, type MemcachedServer } from '@tiercache/testkit'
import memjs from 'memjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memcachedStore } from '../src/index.js'

// Serializers, compression and encryption through a real memcached; the stored items are read back raw with memjs.
let server: MemcachedServer
let client: memjs.Client
beforeAll(async () => {
  server = await startMemcached()
  client = memjs.Client.create(server.address, { timeout: 0.5, retries: 1, logger: { log: () => {} } })
})
afterAll(async () => {
  client?.close()
  await server?.stop()
})

const MARKER = 'MARKER-plaintext-52ad'
const KEY = new Uint8Array(32).map((_, i) => i * 7)
let serial = 0
const ns = (): string => `codec${++serial}`
const store = (): Store => memcachedStore({ client, breaker: false })

function cacheOver(codec: ReturnType<typeof createCodec> | undefined, namespace: string, events: CacheEvent[] = []) {
  // tierTimeout generous (default 1 s): on a loaded CI machine a slow round trip must not become the 'error' event
  // the tests assert absent (and a lost value); they are about encodings, not timeouts.
  return createCache({ tiers: [store()], codec, namespace, policy: { ttl: '1m' }, tierTimeout: '30s', onEvent: (e) => events.push(e) })
}

async function raw(namespace: string, key: string): Promise<Buffer> {
  const { value } = await client.get(`tc:v:${namespace}:${key}`)
  expect(value).not.toBeNull()
  return value as Buffer
}

const SAMPLES: [string, Serializer, unknown][] = [
  ['json', jsonSerializer, { note: MARKER, list: [1, 'two', null] }],
  ['devalue', devalueSerializer, { note: MARKER, when: new Date(1_700_000_000_000), map: new Map([['a', new Set([1n])]]), gone: undefined }],
  ['msgpack', msgpackSerializer(), { note: MARKER, when: new Date(1_700_000_000_000), big: 2n ** 60n, bytes: new Uint8Array([0, 255]) }],
]

describe('codecs on memcachedStore', () => {
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
        await cacheOver(codec, namespace).set('k', value)
        const events: CacheEvent[] = []
        expect(await cacheOver(codec, namespace, events).get('k')).toEqual(value)
        expect(events.filter((e) => e.type === 'error')).toEqual([])
        const stored = await raw(namespace, 'k')
        if (extra !== 'plain') expect(stored.includes(MARKER)).toBe(false)
        if (extra === 'gzip') expect(stored.length).toBeLessThan(1000)
      })
    }
  }

  it('a binary value and an encrypted payload are raw bytes, not base64', async () => {
    const namespace = ns()
    const value = new Uint8Array(4096).map((_, i) => (i * 31) % 256)
    await cacheOver(undefined, namespace).set('bin', value)
    expect((await raw(namespace, 'bin')).length).toBeLessThan(4096 + 200)
    expect(await cacheOver(undefined, namespace).get('bin')).toEqual(value)
    const codec = createCodec({ encryption: { keys: [{ id: 'k1', key: KEY }], current: 'k1' } })
    await cacheOver(codec, namespace).set('secret', 'x'.repeat(4096))
    expect((await raw(namespace, 'secret')).length).toBeLessThan(4096 + 200)
  })

  it('plain JSON entries stay readable text; a tampered or moved encrypted entry, another serializer and a removed key are misses', async () => {
    const namespace = ns()
    await cacheOver(undefined, namespace).set('plain', { note: MARKER })
    expect(JSON.parse((await raw(namespace, 'plain')).toString('utf8'))).toMatchObject({ value: { note: MARKER } })

    const codec = createCodec({ encryption: { keys: [{ id: 'k1', key: KEY }], current: 'k1' } })
    const writer = cacheOver(codec, namespace)
    await writer.set('a', { note: MARKER })
    await writer.set('b', { note: 'b' })
    await client.set(`tc:v:${namespace}:a`, await raw(namespace, 'b'), { expires: 60 })
    const stored = await raw(namespace, 'b')
    stored[stored.length - 8] = (stored[stored.length - 8] as number) ^ 1
    await client.set(`tc:v:${namespace}:b`, stored, { expires: 60 })
    const events: CacheEvent[] = []
    const reader = cacheOver(codec, namespace, events)
    expect(await reader.getOrSet('a', () => 'reloaded a')).toBe('reloaded a')
    expect(await reader.getOrSet('b', () => 'reloaded b')).toBe('reloaded b')
    const removed = cacheOver(createCodec({ encryption: { keys: [{ id: 'k2', key: new Uint8Array(32) }], current: 'k2' } }), namespace, events)
    expect(await removed.getOrSet('a', () => 'reloaded again')).toBe('reloaded again')
    await cacheOver(createCodec({ serializer: devalueSerializer }), namespace).set('d', { when: new Date(0) })
    expect(await cacheOver(createCodec({ serializer: msgpackSerializer() }), namespace, events).getOrSet('d', () => 'other serializer')).toBe('other serializer')
    expect(events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []))).toEqual(['DECRYPT_ERROR', 'DECRYPT_ERROR', 'DECRYPT_ERROR', 'CODEC_MISMATCH'])
  })

  it('rotation: an entry under the old key stays readable while it is listed', async () => {
    const namespace = ns()
    await cacheOver(createCodec({ encryption: { keys: [{ id: 'old', key: KEY }], current: 'old' } }), namespace).set('k', MARKER)
    const rotated = createCodec({ encryption: { keys: [{ id: 'new', key: new Uint8Array(16).fill(3) }, { id: 'old', key: KEY }], current: 'new' } })
    expect(await cacheOver(rotated, namespace).get('k')).toBe(MARKER)
  })

  it("a value over memcached's 1 MB is not written there (VALUE_TOO_LARGE) and the caller still gets it", async () => {
    const namespace = ns()
    const events: CacheEvent[] = []
    const cache = cacheOver(createCodec({ serializer: devalueSerializer }), namespace, events)
    const big = { when: new Date(0), text: 'y'.repeat(1_100_000) }
    expect(await cache.getOrSet('big', () => big)).toEqual(big)
    await cache.idle()
    expect(events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []))).toEqual(['VALUE_TOO_LARGE'])
    expect((await client.get(`tc:v:${namespace}:big`)).value).toBeNull()
  })
})
