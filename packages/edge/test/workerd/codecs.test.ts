// Codecs inside workerd: every serializer, plain, compressed (CompressionStream) and encrypted (WebCrypto), through
// the real Cache API (bytes), miniflare's Workers KV (bytes) and Upstash (text, the real client over HTTP); the raw
// stored data read back from each backend holds no plaintext when encrypted.
import { createCache, type CacheEvent, type Store } from '@tiercache/core'
import { createCodec, jsonSerializer, type Serializer } from '@tiercache/core/codec'
import { devalueSerializer } from '@tiercache/core/devalue'
import { msgpackSerializer } from '@tiercache/core/msgpack'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { urlOf } from '../../src/cache-api-store'
import { cacheApiStore, kvStore, upstashStore } from '../../src/index'
import { redisFor, sharedEndpoint, unique } from '../support/services'

const MARKER = 'MARKER-plaintext-77d0'
const KEY = new Uint8Array(32).map((_, i) => 255 - i)

const SAMPLES: [string, Serializer, unknown][] = [
  ['json', jsonSerializer, { note: MARKER, list: [1, 'two', null] }],
  ['devalue', devalueSerializer, { note: MARKER, when: new Date(1_700_000_000_000), map: new Map([['a', 1n]]), gone: undefined }],
  ['msgpack', msgpackSerializer(), { note: MARKER, when: new Date(1_700_000_000_000), set: new Set(['x']), bytes: new Uint8Array([0, 255]) }],
]

const redis = redisFor(sharedEndpoint())

/** Each backend, and how to read back what it stores for a namespaced key, as bytes. */
const BACKENDS: [string, (prefix: string) => Store, (prefix: string, key: string) => Promise<Uint8Array | null>][] = [
  [
    'Cache API',
    (prefix) => cacheApiStore({ cacheName: prefix }),
    async (prefix, key) => {
      const found = await (await caches.open(prefix)).match(await urlOf(key))
      return found === undefined ? null : new Uint8Array(await found.arrayBuffer())
    },
  ],
  [
    'Workers KV',
    (prefix) => kvStore({ namespace: env.TEST_KV, prefix }),
    async (prefix, key) => {
      const found = await env.TEST_KV.get(`${prefix}k:${key}`, 'arrayBuffer')
      return found === null ? null : new Uint8Array(found)
    },
  ],
  [
    'Upstash',
    (prefix) => upstashStore({ redis, prefix }),
    async (prefix, key) => {
      const found = await redisFor(sharedEndpoint(), { deserialize: false }).get<string>(`${prefix}${key}`)
      return found === null ? null : new TextEncoder().encode(found)
    },
  ],
]

function contains(haystack: Uint8Array, needle: string): boolean {
  return new TextDecoder().decode(haystack).includes(needle)
}

describe.each(BACKENDS)('%s', (_, makeStore, rawOf) => {
  for (const [name, serializer, sample] of SAMPLES) {
    for (const extra of ['plain', 'gzip', 'encrypted'] as const) {
      it(`${name}, ${extra}: read back by another isolate's cache`, async () => {
        const codec = createCodec({
          serializer,
          compression: extra === 'gzip' ? { threshold: 0 } : false,
          encryption: extra === 'encrypted' ? { keys: [{ id: 'k1', key: KEY }], current: 'k1' } : undefined,
        })
        const prefix = unique('codec')
        const value = extra === 'gzip' ? { sample, pad: 'xyz'.repeat(2000) } : sample
        // tierTimeout generous (default 1 s): a loaded CI machine must not turn a slow write or read into the 'error'
        // event asserted absent below (and a lost value); these tests are about encodings, not timeouts.
        const options = { codec, policy: { ttl: '2m' }, tierTimeout: '30s' } as const
        await createCache({ tiers: [makeStore(prefix)], ...options }).set('k', value)
        const events: CacheEvent[] = []
        expect(await createCache({ tiers: [makeStore(prefix)], ...options, onEvent: (e) => events.push(e) }).get('k')).toEqual(value)
        expect(events.filter((e) => e.type === 'error')).toEqual([])
        const raw = await rawOf(prefix, ':k')
        expect(raw).not.toBeNull()
        if (extra !== 'plain') expect(contains(raw as Uint8Array, MARKER)).toBe(false)
        if (extra === 'gzip') expect((raw as Uint8Array).length).toBeLessThan(3000)
      })
    }
  }

  it('an encrypted entry read with a key that is not listed is a miss and an event, never plaintext', async () => {
    const prefix = unique('codec')
    await createCache({ tiers: [makeStore(prefix)], codec: createCodec({ encryption: { keys: [{ id: 'a', key: KEY }], current: 'a' } }), policy: { ttl: '2m' } }).set('k', MARKER)
    const events: CacheEvent[] = []
    const other = createCache({
      tiers: [makeStore(prefix)],
      codec: createCodec({ encryption: { keys: [{ id: 'b', key: KEY }], current: 'b' } }),
      policy: { ttl: '2m' },
      onEvent: (e) => events.push(e),
    })
    expect(await other.get('k')).toBeUndefined()
    expect(events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []))).toEqual(['DECRYPT_ERROR'])
  })

  it('a binary value round-trips as bytes', async () => {
    const prefix = unique('bin')
    const value = new Uint8Array(2048).map((_, i) => (i * 13) % 256)
    await createCache({ tiers: [makeStore(prefix)], policy: { ttl: '2m' } }).set('b', value)
    expect(await createCache({ tiers: [makeStore(prefix)], policy: { ttl: '2m' } }).get('b')).toEqual(value)
    const raw = (await rawOf(prefix, ':b')) as Uint8Array
    // The Cache API and KV keep the bytes; Upstash (text) holds base64.
    if (_ === 'Upstash') expect(raw.length).toBeGreaterThan((2048 * 4) / 3)
    else expect(raw.length).toBeLessThan(2048 + 200)
  })
})
