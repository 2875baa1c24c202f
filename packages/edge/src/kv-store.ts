import type { Coordinator, Duration, Entry, Store } from '@tiercache/core'
import { decodeEntry, encodeEntryBytes, lastServable, toEnvelope } from '@tiercache/core/store'
import { assertOptions, optionalDuration, optionalFunction, optionalInteger, optionalString, typeOf } from '@tiercache/core/kit'
import { readLinkOf } from './durable-object-link.js'
import { sha256Hex } from './digest.js'

/** The times of an entry as a kvStore writes them into each key's KV metadata (names of core's envelope). */
export interface KvEntryMetadata {
  /** createdAt (epoch ms) */
  c: number
  /** freshUntil */
  f: number
  /** staleUntil */
  s: number
  /** errorUntil, when the entry has a stale-if-error window */
  e?: number
}

/** The part of a Workers KV namespace binding (`env.CACHE_KV`) the store uses. */
export interface KvNamespaceLike {
  /** One key, as bytes: an entry with a binary value is stored as bytes (see kvStore). */
  get(key: string, options: { type: 'arrayBuffer'; cacheTtl?: number }): Promise<ArrayBuffer | null>
  /** Bulk read: up to 100 keys in one call (KV reads text only in bulk). */
  get(keys: string[], options: { type: 'text'; cacheTtl?: number }): Promise<Map<string, string | null>>
  put(key: string, value: string | Uint8Array, options: { expirationTtl: number; metadata: KvEntryMetadata }): Promise<void>
  delete(key: string): Promise<void>
}

export interface KvStoreOptions {
  /** The KV namespace binding, `env.CACHE_KV` for `kv_namespaces = [{ binding = "CACHE_KV", id = "…" }]`. */
  namespace: KvNamespaceLike
  /** Prefixed to every KV key the store writes. @default 'tc:' */
  prefix?: string
  /**
   * How long the KV location that serves a read keeps it cached (KV's own `cacheTtl`, at least 30 s): longer means
   * fewer slow reads and later visibility of writes made elsewhere. @default KV's default, 60 s
   */
  cacheTtl?: Duration
  /** Largest encoded entry written, in bytes; larger ones are refused with a RangeError. @default 26214400 (KV's 25 MiB) */
  maxValueBytes?: number
  /** Longest time an entry stays here; core ends every window of what it writes by then. @default none */
  maxTtl?: Duration
  /** Overrides the cache's `tierTimeout` for this store. @default the cache's tierTimeout */
  timeout?: Duration
  /** Clock for remaining lifetimes, in epoch ms; give it the cache's clock. @default Date.now */
  now?: () => number
  /** The store's name in stats, events and Cache-Status. @default 'kv' */
  name?: string
  /**
   * The durableObjectCoordinator of the same cache: each read tells it what it found, and the lock request that may
   * follow sends that along, so that an isolate whose read began before another isolate's load wrote the key gets
   * that load's entry instead of loading again (no request more). Any other coordinator is ignored.
   */
  coordinator?: Coordinator
}

/** Workers KV's limits: value size, key size, keys per bulk read, shortest expiration. */
export const KV_MAX_VALUE_BYTES = 25 * 1024 * 1024
const KV_MAX_KEY_BYTES = 512
const KV_BULK_KEYS = 100
const KV_MIN_EXPIRATION_S = 60
const KV_MIN_CACHE_TTL_S = 30

/**
 * A Store on Workers KV: global, eventually consistent, cheap to read, with no account outside Cloudflare.
 *
 * Each entry is one KV value, its envelope (core's `encodeEntryBytes`: JSON text, or for a binary value, a compressed
 * or encrypted payload, the JSON header and the value's raw bytes, a quarter smaller than base64), with the entry's
 * times also in the key's metadata (`KvEntryMetadata`, so `KV.list()` shows when each entry stops being servable
 * without reading it). Entries written as base64 text by earlier versions still read. `get` is one KV read (as
 * bytes); `getMany` reads text in bulk, then each binary entry once more as bytes.
 * KV expires keys on its own clock and not sooner than 60 s after a write, so the envelope's times stay
 * authoritative: a read past the entry's last servable moment is a miss whatever KV still holds. `getMany` reads
 * 100 keys per KV call (KV's bulk get), more in chunks. Keys longer than KV's 512 bytes are kept under their
 * SHA-256. An entry encoded to more than `maxValueBytes` (KV's 25 MiB) is refused with a RangeError, which core
 * reports as a tier error; a value that does not decode is deleted and reads as a miss.
 *
 * Consistency: a write or delete is visible at once in the location that made it and within about 60 s (or
 * `cacheTtl`) everywhere else. Tag invalidation does not depend on it: it goes through the coordinator (the
 * durableObjectCoordinator is strongly consistent). KV accepts about one write per second per key.
 *
 * @example
 * const l2 = kvStore({ namespace: env.CACHE_KV })
 * const cache = createCache({ tiers: [cacheApiStore(), l2], coordinator: durableObjectCoordinator({ namespace: env.TIERCACHE }) })
 */
export function kvStore(options: KvStoreOptions): Store {
  assertOptions(options, 'kvStore(options)')
  const kv = options.namespace
  if (typeof kv !== 'object' || kv === null || typeof kv.get !== 'function' || typeof kv.put !== 'function' || typeof kv.delete !== 'function') {
    throw new TypeError(`options.namespace must be a Workers KV namespace binding (env.CACHE_KV), got ${typeOf(kv)}`)
  }
  optionalString(options.prefix, 'options.prefix', undefined, 128, { empty: true })
  optionalString(options.name, 'options.name', undefined, 64)
  optionalFunction(options.now, 'options.now')
  optionalInteger(options.maxValueBytes, 'options.maxValueBytes', 1, KV_MAX_VALUE_BYTES)
  const cacheTtlMs = optionalDuration(options.cacheTtl, 'options.cacheTtl')
  if (cacheTtlMs !== undefined && cacheTtlMs < KV_MIN_CACHE_TTL_S * 1000) {
    throw new RangeError(`options.cacheTtl must be at least ${KV_MIN_CACHE_TTL_S} s (Workers KV's minimum), got ${cacheTtlMs} ms`)
  }
  const maxTtl = optionalDuration(options.maxTtl, 'options.maxTtl')
  if (maxTtl === 0) throw new RangeError('options.maxTtl must be longer than 0 ms')
  const timeout = optionalDuration(options.timeout, 'options.timeout')
  const prefix = options.prefix ?? 'tc:'
  const name = options.name ?? 'kv'
  const now = options.now ?? Date.now
  const maxValueBytes = options.maxValueBytes ?? KV_MAX_VALUE_BYTES
  const cacheTtl = cacheTtlMs === undefined ? {} : { cacheTtl: Math.ceil(cacheTtlMs / 1000) }
  const readText = { type: 'text', ...cacheTtl } as const
  const readBytes = { type: 'arrayBuffer', ...cacheTtl } as const
  const encoder = new TextEncoder()
  const room = KV_MAX_KEY_BYTES - encoder.encode(`${prefix}k:`).length
  const { coordinator } = options
  if (coordinator !== undefined && (typeof coordinator !== 'object' || coordinator === null)) {
    throw new TypeError(`options.coordinator must be a Coordinator (durableObjectCoordinator({ namespace })), got ${typeOf(coordinator)}`)
  }
  const link = coordinator === undefined ? undefined : readLinkOf(coordinator)

  /** The KV key of a store key: `<prefix>k:<key>`, or `<prefix>h:<sha-256>` when that would pass 512 bytes. */
  function kvKey(key: string): string | Promise<string> {
    // Most keys are short: only count bytes when the characters could pass the limit.
    if (key.length * 3 <= room || encoder.encode(key).length <= room) return `${prefix}k:${key}`
    return sha256Hex(key).then((digest) => `${prefix}h:${digest}`)
  }

  /** The entry in what KV returned; deletes a value that is not one. Past its last moment: a miss. */
  async function decoded(id: string, data: string | ArrayBuffer | null): Promise<Entry | undefined> {
    if (data === null) return undefined
    const entry = decodeEntry(data)
    if (entry === undefined) {
      await kv.delete(id)
      return undefined
    }
    return lastServable(entry) > now() ? entry : undefined
  }

  return {
    name,
    maxTtl,
    timeout,
    maxValueBytes,
    async get(key) {
      const id = await kvKey(key)
      const entry = await decoded(id, await kv.get(id, readBytes))
      link?.read(key, entry?.createdAt ?? 0)
      return entry
    },
    async getMany(keys) {
      if (keys.length === 0) return []
      const ids = await Promise.all(keys.map(kvKey))
      const unique = [...new Set(ids)]
      const texts = new Map<string, string | null>()
      const chunks: string[][] = []
      for (let i = 0; i < unique.length; i += KV_BULK_KEYS) chunks.push(unique.slice(i, i + KV_BULK_KEYS))
      await Promise.all(
        chunks.map(async (chunk) => {
          const got = await kv.get(chunk, readText)
          for (const id of chunk) texts.set(id, got.get(id) ?? null)
        }),
      )
      const entries = new Map<string, Promise<Entry | undefined>>()
      for (const id of unique) {
        const text = texts.get(id) ?? null
        // JSON text never holds a raw newline; the header of an entry stored as bytes ends with one. Bulk reads are
        // text only, and the bytes after it are not text: read that key again, as bytes.
        entries.set(id, text !== null && text.includes('\n') ? kv.get(id, readBytes).then((bytes) => decoded(id, bytes)) : decoded(id, text))
      }
      return Promise.all(ids.map((id) => entries.get(id) as Promise<Entry | undefined>))
    },
    async set(key, entry) {
      const left = lastServable(entry) - now()
      const id = await kvKey(key)
      // Nothing servable is left: what was stored under the key is replaced by nothing.
      if (left <= 0) return kv.delete(id)
      const data = encodeEntryBytes(entry)
      // UTF-8 takes at most 3 bytes per UTF-16 unit: count exactly only near the limit.
      if (typeof data !== 'string' ? data.byteLength > maxValueBytes : data.length * 3 > maxValueBytes) {
        const bytes = typeof data !== 'string' ? data.byteLength : encoder.encode(data).length
        if (bytes > maxValueBytes) {
          throw new RangeError(
            `kvStore: the entry for ${JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key)} is ${bytes} bytes encoded, over the ${maxValueBytes}-byte value limit${maxValueBytes === KV_MAX_VALUE_BYTES ? ' of Workers KV (25 MiB)' : ' (options.maxValueBytes)'}`,
          )
        }
      }
      const { c, f, s, e } = toEnvelope(entry)
      const metadata: KvEntryMetadata = e === undefined ? { c, f, s } : { c, f, s, e }
      // KV keeps a key at least 60 s; the envelope's times decide when it stops being served.
      await kv.put(id, data, { expirationTtl: Math.max(KV_MIN_EXPIRATION_S, Math.ceil(left / 1000)), metadata })
    },
    async delete(key) {
      await kv.delete(await kvKey(key))
    },
  }
}
