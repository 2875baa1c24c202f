// Scenario: what a codec costs and saves on the tiers outside the process (issue 16): stored bytes and
// encode + decode time per KiB of JSON, for each serializer, with and without gzip and AES-GCM, against the
// baseline of no codec (the JSON envelope core writes by default).
import { decodeEntry, encodeEntry, encodeEntryBytes } from '@tiercache/core'
import { createCodec } from '@tiercache/core/codec'
import { devalueSerializer } from '@tiercache/core/devalue'
import { msgpackSerializer } from '@tiercache/core/msgpack'
import { fmtBytes, fmtNum, fmtRatio, quantile } from '../stats.mjs'

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

const KEY = new Uint8Array(32).map((_, i) => i)
/** @type {[string, (() => import('@tiercache/core/codec').Codec) | undefined, 'text' | 'bytes'][]} */
const CONFIGS = [
  ['JSON, no codec (baseline)', undefined, 'text'],
  ['JSON + gzip', () => createCodec({ compression: { threshold: 0 } }), 'text'],
  ['JSON + AES-GCM', () => createCodec({ encryption: { keys: [{ id: 'k', key: KEY }], current: 'k' } }), 'bytes'],
  ['JSON + gzip + AES-GCM', () => createCodec({ compression: { threshold: 0 }, encryption: { keys: [{ id: 'k', key: KEY }], current: 'k' } }), 'bytes'],
  ['devalue', () => createCodec({ serializer: devalueSerializer }), 'text'],
  ['devalue + gzip', () => createCodec({ serializer: devalueSerializer, compression: { threshold: 0 } }), 'text'],
  ['msgpack', () => createCodec({ serializer: msgpackSerializer() }), 'bytes'],
  ['msgpack + gzip', () => createCodec({ serializer: msgpackSerializer(), compression: { threshold: 0 } }), 'bytes'],
]
const STORE = { name: 'bench', get: async () => undefined, set: async () => {}, delete: async () => {} }

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'codec',
  async run({ quick, log }) {
    /** @type {[number, string][]} */
    const sizes = quick ? [[8, '1 KiB'], [140, '16 KiB']] : [[8, '1 KiB'], [140, '16 KiB'], [2200, '256 KiB']]
    const rounds = quick ? 3 : 7
    /** @type {string[][]} */
    const rows = []
    for (const [count, label] of sizes) {
      const value = payload(count)
      const kib = JSON.stringify(value).length / 1024
      const entry = { value, createdAt: 1, freshUntil: 2, staleUntil: 3 }
      /** @type {{ bytes: number, median: number } | undefined} */
      let baseline
      for (const [name, make, keeping] of CONFIGS) {
        const codec = make?.()
        const context = { key: 'ns:catalog:1', store: /** @type {import('@tiercache/core').Store} */ (STORE) }
        const encodeStore = keeping === 'bytes' ? encodeEntryBytes : encodeEntry
        const roundTrip = async () => {
          const stored = codec === undefined ? entry : (await codec.encode(entry, context)).entry
          const data = encodeStore(stored)
          const back = decodeEntry(data)
          if (back === undefined) throw new Error(`${name}: the envelope did not decode`)
          if (codec !== undefined) await codec.decode(back, context)
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
        'A catalogue page (repeated keys and words) as one entry, written and read back through each codec: codec.encode, the ' +
        'envelope as the store keeps it (JSON text for text stores, encodeEntryBytes for stores that keep bytes), decodeEntry and ' +
        `codec.decode. Time is per KiB of the value's JSON, median of ${rounds} rounds after a warm-up; the baseline is the envelope ` +
        'core writes with no codec. Compression uses the runtime\'s CompressionStream, encryption WebCrypto\'s AES-GCM (Node here).',
      columns: ['value (JSON)', 'codec', 'stored', 'size vs JSON', 'encode + decode per KiB', 'time vs JSON'],
      rows,
      notes: [
        'Without a codec, and on the in-process memory tier, none of this runs: the hot hit is the hot-hit table above.',
        'Encrypted sizes are for stores that keep bytes; text stores (Upstash, KV) add a third for base64.',
      ],
    }
  },
}
