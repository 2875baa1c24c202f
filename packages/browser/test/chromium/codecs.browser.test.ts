// Codecs on Chromium's real IndexedDB: every serializer, plain, compressed and encrypted (the page's own
// CompressionStream and WebCrypto); the records IndexedDB holds are read back raw (idb-keyval) to check that an
// encrypted one holds no plaintext and that binary values are kept as bytes, not base64.
import { createCache, memoryStore, type CacheEvent } from '@tiercache/core'
import { createCodec, jsonSerializer, type Serializer } from '@tiercache/core/codec'
import { devalueSerializer } from '@tiercache/core/devalue'
import { msgpackSerializer } from '@tiercache/core/msgpack'
import { createStore, get } from 'idb-keyval'
import { afterAll, describe, expect, it } from 'vitest'
import { indexedDbStore, type IndexedDbStore } from '../../src/index.js'

const MARKER = 'MARKER-plaintext-3b5d'
const KEY = new Uint8Array(32).map((_, i) => i + 100)
const opened: IndexedDbStore[] = []
afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()))
})

function open(dbName: string): IndexedDbStore {
  const store = indexedDbStore({ dbName })
  opened.push(store)
  return store
}

async function rawText(dbName: string, key: string): Promise<string> {
  const record: unknown = await get(key, createStore(dbName, 'entries'))
  expect(record).toBeDefined()
  // Bytes read as Latin-1, one character per byte: a marker in them would show.
  return JSON.stringify(record, (_, v: unknown) => (v instanceof Uint8Array ? String.fromCharCode(...v) : v))
}

const SAMPLES: [string, Serializer, unknown][] = [
  ['json', jsonSerializer, { note: MARKER, list: [1, 'two', null] }],
  ['devalue', devalueSerializer, { note: MARKER, when: new Date(1_700_000_000_000), map: new Map([['a', 1n]]), gone: undefined }],
  ['msgpack', msgpackSerializer(), { note: MARKER, when: new Date(1_700_000_000_000), set: new Set(['x']), bytes: new Uint8Array([0, 255]) }],
]

describe('codecs over IndexedDB in Chromium', () => {
  for (const [name, serializer, sample] of SAMPLES) {
    for (const extra of ['plain', 'gzip', 'encrypted'] as const) {
      it(`${name}, ${extra}: read back after the page's caches are gone`, async () => {
        const codec = createCodec({
          serializer,
          compression: extra === 'gzip' ? { threshold: 0 } : false,
          encryption: extra === 'encrypted' ? { keys: [{ id: 'k1', key: KEY }], current: 'k1' } : undefined,
        })
        const dbName = `codec-${crypto.randomUUID()}`
        const value = extra === 'gzip' ? { sample, pad: 'xyz'.repeat(2000) } : sample
        // tierTimeout generous (default 1 s): a loaded CI machine must not turn a slow IndexedDB write or read into
        // the 'error' event asserted absent below; this test is about encodings, not timeouts.
        const writer = createCache({ tiers: [memoryStore(), open(dbName)], codec, policy: { ttl: '1m' }, tierTimeout: '30s' })
        await writer.set('k', value)
        const events: CacheEvent[] = []
        const reader = createCache({ tiers: [memoryStore(), open(dbName)], codec, policy: { ttl: '1m' }, tierTimeout: '30s', onEvent: (e) => events.push(e) })
        expect(await reader.get('k')).toEqual(value)
        expect(events.filter((e) => e.type === 'error')).toEqual([])
        const raw = await rawText(dbName, ':k')
        if (extra !== 'plain') expect(raw.includes(MARKER)).toBe(false)
        if (extra === 'gzip') expect(raw.length).toBeLessThan(3000)
      })
    }
  }

  it('a binary value is kept as bytes in the record; a wrong key is a miss with DECRYPT_ERROR', async () => {
    const dbName = `codec-${crypto.randomUUID()}`
    const value = new Uint8Array(4096).map((_, i) => (i * 7) % 256)
    await createCache({ tiers: [open(dbName)], policy: { ttl: '1m' } }).set('bin', value)
    const record = (await get(':bin', createStore(dbName, 'entries'))) as { value: unknown }
    expect(record.value).toBeInstanceOf(Uint8Array)
    expect(await createCache({ tiers: [open(dbName)], policy: { ttl: '1m' } }).get('bin')).toEqual(value)

    const secretDb = `codec-${crypto.randomUUID()}`
    await createCache({ tiers: [open(secretDb)], codec: createCodec({ encryption: { keys: [{ id: 'a', key: KEY }], current: 'a' } }), policy: { ttl: '1m' } }).set('s', MARKER)
    const events: CacheEvent[] = []
    const wrong = createCache({
      tiers: [open(secretDb)],
      codec: createCodec({ encryption: { keys: [{ id: 'a', key: new Uint8Array(32) }], current: 'a' } }),
      policy: { ttl: '1m' },
      onEvent: (e) => events.push(e),
    })
    expect(await wrong.get('s')).toBeUndefined()
    expect(events.flatMap((e) => (e.type === 'error' ? [e.error.code] : []))).toEqual(['DECRYPT_ERROR'])
  })
})
