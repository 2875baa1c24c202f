// Scenario: what a codec costs and saves on the tiers outside the process (issue 16): stored bytes and
// encode + decode time per KiB of JSON, for each serializer, with and without gzip and AES-GCM, against the
// baseline of no codec (the JSON envelope core writes by default).
import { decodeEntry, encodeEntry, encodeEntryBytes } from '@tiercache/core/store'
import { createCodec } from '@tiercache/core/codec'
import { devalueSerializer } from '@tiercache/core/devalue'
import { msgpackSerializer } from '@tiercache/core/msgpack'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import superjson from 'superjson'
import { fmtBytes, fmtNum, fmtRatio, quantile } from '../stats.mjs'

/**
 * superjson as a Serializer, measured only (issue 16 asked for devalue or superjson, measured, one picked): core
 * ships devalueSerializer; this adapter lives in the bench so the choice stays checkable.
 * @type {import('@tiercache/core/codec').Serializer}
 */
const superjsonSerializer = {
  id: 'superjson.2',
  binary: false,
  encode: (value) => JSON.stringify(superjson.serialize(value)),
  decode: (data) => superjson.deserialize(JSON.parse(/** @type {string} */ (data))),
  check: () => {},
}

/**
 * A catalogue page: repeated keys and words, as API responses are.
 * @param {number} rows
 */
function payload(rows) {
  return {
    page: 1,
    items: Array.from({ length: rows }, (_, i) => ({
      id: i,
      sku: `SKU-${String(i).padStart(6, '0')}`,
      name: `Product ${i} with a descriptive name`,
      price: Math.round(i * 137.5) / 100,
      tags: ['catalog', i % 2 ? 'even' : 'odd', `group-${i % 7}`],
      inStock: i % 3 !== 0,
    })),
  }
}

/**
 * The same page with what JSON cannot keep (a BigInt id, a Date, a Set of tags), for the structured serializers;
 * its baseline is the JSON of the page with those as a number, an ISO string and an array.
 * @param {number} rows
 * @param {boolean} typed
 */
function typedPayload(rows, typed) {
  const page = payload(rows)
  return {
    page: page.page,
    items: page.items.map((item, i) => ({
      ...item,
      id: typed ? BigInt(item.id) : item.id,
      tags: typed ? new Set(item.tags) : item.tags,
      updated: typed ? new Date(1_700_000_000_000 + i * 1000) : new Date(1_700_000_000_000 + i * 1000).toISOString(),
    })),
  }
}

const KEY = new Uint8Array(32).map((_, i) => i)
/** @type {[string, (() => import('@tiercache/core/codec').Codec) | undefined, 'text' | 'bytes'][]} */
const CONFIGS = [
  ['JSON, no codec (baseline)', undefined, 'text'],
  ['JSON + gzip', () => createCodec({ compression: { threshold: 0 } }), 'text'],
  ['JSON + AES-GCM', () => createCodec({ encryption: { keys: [{ id: 'k', key: KEY }], current: 'k' } }), 'bytes'],
  ['JSON + gzip + AES-GCM', () => createCodec({ compression: { threshold: 0 }, encryption: { keys: [{ id: 'k', key: KEY }], current: 'k' } }), 'bytes'],
  ['devalue', () => createCodec({ serializer: devalueSerializer }), 'text'],
  ['devalue + gzip', () => createCodec({ serializer: devalueSerializer, compression: { threshold: 0 } }), 'text'],
  ['superjson (measured, not shipped)', () => createCodec({ serializer: superjsonSerializer }), 'text'],
  ['superjson + gzip', () => createCodec({ serializer: superjsonSerializer, compression: { threshold: 0 } }), 'text'],
  ['msgpack', () => createCodec({ serializer: msgpackSerializer() }), 'bytes'],
  ['msgpack + gzip', () => createCodec({ serializer: msgpackSerializer(), compression: { threshold: 0 } }), 'bytes'],
]
/** For values with Dates, BigInts and Sets: the structured serializers only (JSON cannot keep them). */
/** @type {typeof CONFIGS} */
const TYPED_CONFIGS = [
  ['JSON of the same page as strings/numbers/arrays (baseline)', undefined, 'text'],
  ['devalue', () => createCodec({ serializer: devalueSerializer }), 'text'],
  ['superjson (measured, not shipped)', () => createCodec({ serializer: superjsonSerializer }), 'text'],
  ['msgpack', () => createCodec({ serializer: msgpackSerializer() }), 'bytes'],
]
const STORE = { name: 'bench', get: async () => undefined, set: async () => {}, delete: async () => {} }

/**
 * min+gzip bytes of a serializer library alone (esbuild, browser ESM), resolved from where core or the bench finds it.
 * @param {'devalue' | 'superjson'} name
 */
async function bundled(name) {
  const require = createRequire(import.meta.url)
  const dir = name === 'devalue' ? dirname(require.resolve('@tiercache/core/package.json')) : dirname(fileURLToPath(import.meta.url))
  const contents = name === 'devalue' ? "export { stringify, parse } from 'devalue'" : "export { default } from 'superjson'"
  const out = await build({ stdin: { contents, resolveDir: dir }, bundle: true, minify: true, format: 'esm', platform: 'browser', write: false })
  return fmtBytes(gzipSync(/** @type {import('esbuild').OutputFile} */ (out.outputFiles[0]).contents, { level: 9 }).length)
}

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'codec',
  async run({ quick, log }) {
    /** @type {[number, string, boolean][]} */
    const sizes = quick
      ? [[8, '1 KiB', false], [140, '16 KiB', false], [120, '16 KiB typed', true]]
      : [[8, '1 KiB', false], [140, '16 KiB', false], [2200, '256 KiB', false], [120, '16 KiB typed', true]]
    const rounds = quick ? 3 : 7
    /** @type {string[][]} */
    const rows = []
    for (const [count, label, typed] of sizes) {
      const plainValue = typed ? typedPayload(count, false) : payload(count)
      const kib = JSON.stringify(plainValue).length / 1024
      /** @type {{ bytes: number, median: number } | undefined} */
      let baseline
      for (const [name, make, keeping] of typed ? TYPED_CONFIGS : CONFIGS) {
        const codec = make?.()
        const value = typed && codec !== undefined ? typedPayload(count, true) : plainValue
        const entry = { value, createdAt: 1, freshUntil: 2, staleUntil: 3 }
        const context = { key: 'ns:catalog:1', store: /** @type {import('@tiercache/core').Store} */ (STORE) }
        const encodeStore = keeping === 'bytes' ? encodeEntryBytes : encodeEntry
        const roundTrip = async () => {
          const stored = codec === undefined ? entry : (await codec.encode(entry, context)).entry
          const data = encodeStore(stored)
          const back = decodeEntry(data)
          if (back === undefined) throw new Error(`${name}: the envelope did not decode`)
          if (codec !== undefined) {
            const decoded = await codec.decode(back, context)
            if (typed && !(/** @type {any} */ (decoded.value).items[0].updated instanceof Date)) throw new Error(`${name}: the Date did not come back`)
          }
          return data
        }
        const data = await roundTrip()
        const bytes = typeof data === 'string' ? new TextEncoder().encode(data).length : data.length
        // Enough repetitions for a few tens of ms per round.
        const reps = Math.max(3, Math.round((quick ? 20 : 60) / Math.max(0.02, kib * 0.02)))
        const perKiB = []
        for (let r = 0; r < rounds + 1; r++) {
          const start = process.hrtime.bigint()
          for (let i = 0; i < reps; i++) await roundTrip()
          const us = Number(process.hrtime.bigint() - start) / 1e3 / reps / kib
          if (r > 0) perKiB.push(us)
        }
        const median = quantile(perKiB, 0.5)
        const base = (baseline ??= { bytes, median })
        log(`  codec ${label} ${name}: ${fmtNum(median)} us/KiB, ${bytes} B`)
        rows.push([
          label,
          name,
          fmtBytes(bytes),
          fmtRatio(bytes / base.bytes),
          `${median.toFixed(2)} µs`,
          fmtRatio(median / base.median),
        ])
      }
    }
    return {
      title: 'Codecs: stored size and encode + decode time (issue 16)',
      description:
        'A catalogue page (repeated keys and words) as one entry (\'typed\': with a BigInt id, a Date and a Set of tags per row, ' +
        'against the JSON of the same page with those as a number, a string and an array), written and read back through each codec: codec.encode, the ' +
        'envelope as the store keeps it (JSON text for text stores, encodeEntryBytes for stores that keep bytes), decodeEntry and ' +
        `codec.decode. Time is per KiB of the value's JSON, median of ${rounds} rounds after a warm-up; the baseline is the envelope ` +
        'core writes with no codec. Compression uses the runtime\'s CompressionStream, encryption WebCrypto\'s AES-GCM (Node here).',
      columns: ['value (JSON)', 'codec', 'stored', 'size vs JSON', 'encode + decode per KiB', 'time vs JSON'],
      rows,
      notes: [
        'Without a codec, and on the in-process memory tier, none of this runs: the hot hit is the hot-hit table above.',
        'Encrypted sizes are for stores that keep bytes; text stores (Upstash, KV) add a third for base64.',
        'devalue or superjson (issue 16: measure both, pick one): both give back Dates, Maps, Sets, BigInts, typed arrays, ' +
          'undefined and cycles, and weigh about the same bundled (min+gzip: devalue ' + (await bundled('devalue')) +
          ', superjson ' + (await bundled('superjson')) + '); core ships devalue, which encodes and decodes faster and ' +
          'stores typed values smaller (the devalue and superjson rows); superjson\'s output compresses better.',
      ],
    }
  },
}
