import { binaryKind, fromUtf8, utf8, utf8LengthOver } from '../bytes.js'
import type { Codec, CodecContext, CodecPlan, Encoded, TierCodecs, ValueCheck } from '../codec.js'
import { typeOf } from '../duration.js'
import type { Entry } from '../entry.js'
import { CacheError } from '../errors.js'
import type { Store } from '../store.js'
import { codecPlan } from './codec-tiers.js'
import { KeyRing, type EncryptionOptions } from './encryption.js'
import { jsonSerializer, SERIALIZER_ID, type Serializer } from './serializer.js'
import { compressionStream, decompressionStream, transform } from './web.js'

/** Compression of values above a size, with the runtime's CompressionStream. */
export interface CompressionOptions {
  /** @default 'gzip' */
  format?: 'gzip' | 'deflate'
  /** Values smaller than this many bytes (serialized) are stored as they are. @default 1024 */
  threshold?: number
}

export interface CodecOptions {
  /** How values become text or bytes. @default jsonSerializer (entries stay in today's readable format) */
  serializer?: Serializer
  /**
   * Compress serialized values of `threshold` bytes or more (gzip by default), when that makes them smaller and
   * the runtime has CompressionStream (otherwise values are stored uncompressed). `true` = the defaults.
   * Bytes saved are counted in `cache.stats().tiers[i].bytesSaved`. @default false
   */
  compression?: boolean | CompressionOptions
  /** Encrypt every value with AES-GCM (WebCrypto) before it leaves the process. @default none */
  encryption?: EncryptionOptions
  /**
   * Largest encoded value written to a tier, in bytes; a store's own `maxValueBytes` (its backend's limit) applies
   * too. A larger value is not written there (`VALUE_TOO_LARGE` error event); the caller still gets it.
   * @default the store's limit, else none
   */
  maxValueBytes?: number
  /** Largest value decompression may produce, in bytes (a guard against entries that inflate without end). @default 268435456 (256 MiB) */
  maxDecodedBytes?: number
}

const FORMATS = new Set(['gzip', 'deflate'])
const AES = 'aes-gcm.'

/**
 * A codec for `createCache({ codec })`: the serializer, compression, encryption and size guard that entries go
 * through on their way to the tiers outside this process (the in-process memory tier keeps values as they are).
 * Each entry records how it was encoded (`serializer.version[+gzip][+aes-gcm.<key id>]`); an entry this codec
 * cannot give back exactly (another serializer, a key not listed, altered bytes, an entry moved to another key)
 * is a miss with an error event, never a wrong value and never an exception to the caller.
 *
 * @example
 * const cache = createCache({
 *   tiers: [memoryStore(), redisStore({ client })],
 *   codec: createCodec({ compression: true, encryption: { keys: [{ id: 'k1', key: process.env.CACHE_KEY! }], current: 'k1' } }),
 * })
 */
export function createCodec(options: CodecOptions = {}): Codec {
  if (typeof options !== 'object' || options === null) throw new TypeError(`createCodec(options) must be an object, got ${typeOf(options)}`)
  const serializer = options.serializer ?? jsonSerializer
  if (
    typeof serializer !== 'object' ||
    serializer === null ||
    typeof serializer.encode !== 'function' ||
    typeof serializer.decode !== 'function' ||
    typeof serializer.check !== 'function'
  ) {
    throw new TypeError(`options.serializer must be a Serializer { id, binary, encode, decode, check }, got ${typeOf(serializer)}`)
  }
  if (typeof serializer.id !== 'string' || !SERIALIZER_ID.test(serializer.id) || serializer.id.startsWith('bytes.')) {
    throw new RangeError(`options.serializer.id must be 1 to 32 of a-z 0-9 . _ - (and not bytes.*), got ${JSON.stringify(serializer.id)}`)
  }
  const json = serializer === jsonSerializer
  let format: string | undefined
  let threshold = 1024
  const { compression } = options
  if (compression !== undefined && compression !== false) {
    if (compression !== true && (typeof compression !== 'object' || compression === null)) {
      throw new TypeError(`options.compression must be true, false or { format, threshold }, got ${typeOf(compression)}`)
    }
    const given = compression === true ? {} : compression
    format = given.format ?? 'gzip'
    if (!FORMATS.has(format)) throw new RangeError(`options.compression.format must be 'gzip' or 'deflate', got ${JSON.stringify(format)}`)
    threshold = given.threshold ?? threshold
    if (!Number.isInteger(threshold) || threshold < 0) throw new RangeError(`options.compression.threshold must be an integer >= 0 (bytes), got ${String(threshold)}`)
  }
  const ring = options.encryption === undefined ? undefined : new KeyRing(options.encryption, 'options.encryption')
  const maxValueBytes = limit(options.maxValueBytes, 'options.maxValueBytes', Number.POSITIVE_INFINITY)
  const maxDecoded = limit(options.maxDecodedBytes, 'options.maxDecodedBytes', 256 * 1024 * 1024)

  function tooLarge(bytes: number, max: number, store: Store): never {
    throw new CacheError('VALUE_TOO_LARGE', `the value takes ${bytes} bytes, over the ${max} bytes ${store.name} takes (maxValueBytes); not written there`)
  }

  /** Bytes or text `data` checked against the limit of `store`. */
  function guard(data: string | Uint8Array, max: number, store: Store): void {
    if (max === Number.POSITIVE_INFINITY) return
    const over = typeof data === 'string' ? utf8LengthOver(data, max) : data.length > max ? data.length : 0
    if (over > 0) tooLarge(over, max, store)
  }

  const codec: Codec = {
    async encode(entry: Entry, { key, store }: CodecContext): Promise<Encoded> {
      const max = Math.min(maxValueBytes, store.maxValueBytes ?? Number.POSITIVE_INFINITY)
      const { value } = entry
      const kind = binaryKind(value)
      // A binary value or JSON is already what the envelope holds: left as it is unless compressed or encrypted.
      const plain = kind !== 0 || json
      if (plain && format === undefined && ring === undefined && max === Number.POSITIVE_INFINITY) return { entry, saved: 0 }
      const id = kind === 0 ? serializer.id : `bytes.${kind}`
      let data: string | Uint8Array = kind === 0 ? serializer.encode(value) : kind === 1 ? (value as Uint8Array) : new Uint8Array(value as ArrayBuffer)
      let saved = 0
      let codecId = id
      if (format !== undefined) {
        const bytes = typeof data === 'string' ? (data.length * 3 < threshold ? undefined : utf8(data)) : data
        const Compression = compressionStream()
        if (bytes !== undefined && bytes.length >= threshold && Compression !== undefined) {
          const packed = await transform(new Compression(format), bytes, Number.POSITIVE_INFINITY)
          if (packed.length < bytes.length) {
            saved = bytes.length - packed.length
            data = packed
            codecId += `+${format}`
          }
        }
      }
      if (ring === undefined && plain && codecId === id) {
        guard(data, max, store)
        return { entry, saved: 0 }
      }
      if (ring !== undefined) {
        codecId += `+${AES}${ring.current}`
        data = await ring.seal(typeof data === 'string' ? utf8(data) : data, boundData(codecId, key))
      }
      guard(data, max, store)
      return { entry: { ...entry, value: data, codec: codecId }, saved }
    },

    async decode(entry: Entry, { key }: CodecContext): Promise<Entry> {
      const codecId = entry.codec
      if (codecId === undefined) {
        if (ring !== undefined) throw mismatch('is stored in the clear, and this codec requires encryption')
        if (!json && binaryKind(entry.value) === 0) throw mismatch(`was written as plain JSON, and this codec reads ${serializer.id}`)
        return entry
      }
      const parts = codecId.split('+')
      const id = parts[0] as string
      let at = 1
      const compressed = FORMATS.has(parts[at] as string) ? (parts[at++] as string) : undefined
      const keyId = parts[at]?.startsWith(AES) === true ? (parts[at++] as string).slice(AES.length) : undefined
      if (at !== parts.length || (id !== serializer.id && id !== 'bytes.1' && id !== 'bytes.2')) {
        throw mismatch(`was written as ${codecId}, and this codec reads ${serializer.id}`)
      }
      if (ring === undefined && keyId !== undefined) throw mismatch(`is encrypted (key ${keyId}), and this codec has no encryption`)
      if (ring !== undefined && keyId === undefined) throw mismatch('is stored in the clear, and this codec requires encryption')
      let data = entry.value as unknown
      if (ring !== undefined && keyId !== undefined) {
        if (!ring.has(keyId)) throw new CacheError('DECRYPT_ERROR', `the entry is encrypted with key ${keyId}, which is not listed in encryption.keys`)
        if (!(data instanceof Uint8Array)) throw decodeError('the encrypted value is not bytes')
        try {
          data = await ring.open(keyId, data, boundData(codecId, key))
        } catch (error) {
          throw new CacheError('DECRYPT_ERROR', `the entry does not authenticate with key ${keyId}: altered, moved from another key, or another key under this id`, {
            cause: error,
          })
        }
      }
      try {
        if (compressed !== undefined) {
          const Decompression = decompressionStream()
          if (Decompression === undefined) throw mismatch(`is compressed (${compressed}), and this runtime has no DecompressionStream`)
          data = await transform(new Decompression(compressed), bytesOf(data), maxDecoded)
        }
        let value: unknown
        if (id === 'bytes.1') value = bytesOf(data)
        else if (id === 'bytes.2') value = bytesOf(data).slice().buffer
        else if (serializer.binary) value = serializer.decode(bytesOf(data))
        else value = serializer.decode(typeof data === 'string' ? data : fromUtf8(bytesOf(data)))
        const decoded: Entry = { ...entry, value }
        delete decoded.codec
        return decoded
      } catch (error) {
        if (error instanceof CacheError) throw error
        throw decodeError(`the ${codecId} value does not decode: ${error instanceof Error ? error.message : String(error)}`, error)
      }
    },

    check: serializer.check,

    reencrypt: ring === undefined || ring.reencrypt === 0 ? undefined : { outdated: outdatedBy(`+${AES}${ring.current}`), maxPending: ring.reencrypt },

    plan(stores: readonly Store[]): CodecPlan {
      return codecPlan(
        stores.map((store) => (store.getSync === undefined ? codec : undefined)),
        serializer.check,
      )
    },
  }
  return codec
}

/**
 * Chooses a codec per tier, e.g. one serializer for Redis and another for IndexedDB, or encryption only for the
 * shared tiers. `choose` is called once per tier outside this process when the cache is built (in-process tiers,
 * such as memoryStore, keep values as they are); undefined leaves that tier's entries as they are.
 *
 * @example
 * codec: perTier((store) => (store.name === 'upstash' ? encrypted : undefined))
 */
export function perTier(choose: (store: Store, index: number) => Codec | undefined): TierCodecs {
  if (typeof choose !== 'function') throw new TypeError(`perTier(choose) must be given a function (store, index) => codec | undefined, got ${typeOf(choose)}`)
  return {
    plan(stores: readonly Store[], json: ValueCheck): CodecPlan {
      const checks = new Set<ValueCheck>()
      const codecs = stores.map((store, i) => {
        // In-process tiers hold the values themselves: never asked.
        if (store.getSync !== undefined) return undefined
        const codec = choose(store, i)
        if (codec === undefined) {
          checks.add(json)
          return undefined
        }
        if (typeof codec !== 'object' || codec === null || typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
          throw new TypeError(`perTier: choose(tiers[${i}]) must return a codec from createCodec() or undefined, got ${typeOf(codec)}`)
        }
        checks.add(codec.check)
        return codec
      })
      const list = [...checks]
      const check: ValueCheck =
        list.length === 0 ? json : list.length === 1 ? (list[0] as ValueCheck) : (value, name) => list.forEach((one) => one(value, name))
      return codecPlan(codecs, check)
    },
  }
}

/** Whether a stored entry is encrypted under a key other than the one whose codec id suffix is `current`. */
function outdatedBy(current: string): (stored: Entry) => boolean {
  return (stored) => stored.codec !== undefined && stored.codec.includes(`+${AES}`) && !stored.codec.endsWith(current)
}

/** The additional data AES-GCM binds: the entry's codec id (key id included) and its namespaced key. */
function boundData(codecId: string, key: string): Uint8Array {
  return utf8(`${codecId}\n${key}`)
}

function bytesOf(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  throw new TypeError(`expected bytes, got ${typeOf(data)}`)
}

function mismatch(why: string): CacheError {
  return new CacheError('CODEC_MISMATCH', `the entry ${why}: a miss`)
}

function decodeError(message: string, cause?: unknown): CacheError {
  return new CacheError('DECODE_ERROR', message, { cause })
}

function limit(given: number | undefined, name: string, fallback: number): number {
  if (given === undefined) return fallback
  if (!Number.isInteger(given) || given < 1) throw new RangeError(`${name} must be a positive integer (bytes), got ${String(given)}`)
  return given
}
