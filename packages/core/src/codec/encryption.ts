import { fromBase64 } from '../bytes.js'
import { typeOf } from '../duration.js'
import { webCrypto, type CryptoKeyLike } from './web.js'

/** One key of the ring: an id recorded in each entry it encrypts, and the AES key. */
export interface EncryptionKey {
  /** Recorded in every entry this key encrypts; 1 to 64 of `A-Z a-z 0-9 . _ -`. */
  id: string
  /**
   * An AES-GCM key: 16 or 32 random bytes (Uint8Array or ArrayBuffer, or their base64 text, say from an
   * environment secret), or a WebCrypto CryptoKey for AES-GCM that may encrypt and decrypt.
   */
  key: CryptoKeyLike | Uint8Array | ArrayBuffer | string
}

/**
 * Encryption at rest with AES-GCM (WebCrypto). Writes use `current`; reads accept every key listed, so rotating is:
 * add the new key and make it current, and drop the old one once its entries have expired (entries under a key
 * that is no longer listed are misses, reloaded and written under the current one).
 *
 * @example
 * encryption: { keys: [{ id: '2025-06', key: env.CACHE_KEY_2025_06 }, { id: '2024-12', key: env.CACHE_KEY_2024_12 }], current: '2025-06' }
 */
export interface EncryptionOptions {
  keys: readonly EncryptionKey[]
  /** The id of the key new entries are encrypted with. */
  current: string
  /**
   * Re-encrypt in the background after a rotation: a fresh entry read from a tier under another listed key is
   * written there again under `current` (same value, same times), at most `maxPending` at once per cache (reads
   * beyond that are left for a later read), each reported as a `reencrypt` event. Off, entries under an old key
   * are read until they expire. Reads (get, getOrSet, getManyOrSet) and entries a lock holder hands over
   * re-encrypt; a key written in this process after the read is left alone. Like any write, it can replace a value another process wrote to the tier between
   * the read and the re-write (ms).
   * @default false ({ maxPending: 8 } when true)
   */
  reencrypt?: boolean | { maxPending?: number }
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/
const IV_BYTES = 12

/** The keys of one codec; their material stays in here (never in messages, events or logs). */
export class KeyRing {
  readonly current: string
  /** Most background re-encryptions in flight at once; 0 = off. */
  readonly reencrypt: number
  readonly #material = new Map<string, CryptoKeyLike | Uint8Array>()
  readonly #imported = new Map<string, Promise<CryptoKeyLike>>()

  constructor(options: EncryptionOptions, where: string) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`${where} must be an object like { keys: [{ id, key }], current }, got ${typeOf(options)}`)
    }
    const { keys, current } = options
    if (!Array.isArray(keys) || keys.length === 0) throw new TypeError(`${where}.keys must be a non-empty array of { id, key }`)
    keys.forEach((item: unknown, i) => {
      const name = `${where}.keys[${i}]`
      if (typeof item !== 'object' || item === null) throw new TypeError(`${name} must be an object like { id, key }, got ${typeOf(item)}`)
      const { id, key } = item as EncryptionKey
      if (typeof id !== 'string' || !KEY_ID.test(id)) {
        throw new RangeError(`${name}.id must be 1 to 64 characters of A-Z a-z 0-9 . _ -, got ${typeof id === 'string' ? JSON.stringify(id) : typeOf(id)}`)
      }
      if (this.#material.has(id)) throw new RangeError(`${name}.id ${JSON.stringify(id)} is listed twice`)
      this.#material.set(id, keyMaterial(key, `${name}.key`))
    })
    if (typeof current !== 'string' || !this.#material.has(current)) {
      throw new RangeError(`${where}.current must be the id of one of ${where}.keys, got ${typeof current === 'string' ? JSON.stringify(current) : typeOf(current)}`)
    }
    if (webCrypto() === undefined) throw new TypeError(`${where}: this runtime has no WebCrypto (crypto.subtle)`)
    this.current = current
    this.reencrypt = reencryptLimit(options.reencrypt, `${where}.reencrypt`)
  }

  has(id: string): boolean {
    return this.#material.has(id)
  }

  /** IV (12 random bytes) followed by the ciphertext and its tag, under the current key. */
  async seal(plain: Uint8Array, additionalData: Uint8Array): Promise<Uint8Array> {
    const crypto = webCrypto() as NonNullable<ReturnType<typeof webCrypto>>
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData }, await this.#key(this.current), plain))
    const out = new Uint8Array(IV_BYTES + sealed.length)
    out.set(iv)
    out.set(sealed, IV_BYTES)
    return out
  }

  /** The plaintext of what seal produced under key `id`; rejects when it does not authenticate. */
  async open(id: string, data: Uint8Array, additionalData: Uint8Array): Promise<Uint8Array> {
    if (data.length < IV_BYTES + 16) throw new RangeError('the encrypted data is shorter than an IV and a tag')
    const crypto = webCrypto() as NonNullable<ReturnType<typeof webCrypto>>
    const iv = data.subarray(0, IV_BYTES)
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData }, await this.#key(id), data.subarray(IV_BYTES)))
  }

  #key(id: string): Promise<CryptoKeyLike> {
    let key = this.#imported.get(id)
    if (key === undefined) {
      const material = this.#material.get(id) as CryptoKeyLike | Uint8Array
      key =
        material instanceof Uint8Array
          ? (webCrypto() as NonNullable<ReturnType<typeof webCrypto>>).subtle.importKey('raw', material, 'AES-GCM', false, ['encrypt', 'decrypt'])
          : Promise.resolve(material)
      // A failed import is tried again next time rather than remembered.
      key.catch(() => this.#imported.delete(id))
      this.#imported.set(id, key)
    }
    return key
  }

  /** Never the material. */
  toJSON(): { current: string; keys: string[] } {
    return { current: this.current, keys: [...this.#material.keys()] }
  }
}

function reencryptLimit(given: unknown, name: string): number {
  if (given === undefined || given === false) return 0
  if (given === true) return 8
  if (typeof given !== 'object' || given === null) throw new TypeError(`${name} must be true, false or { maxPending }, got ${typeOf(given)}`)
  const { maxPending = 8 } = given as { maxPending?: unknown }
  if (typeof maxPending !== 'number' || !Number.isInteger(maxPending) || maxPending < 1 || maxPending > 1_000) {
    throw new RangeError(`${name}.maxPending must be an integer from 1 to 1000, got ${typeof maxPending === 'number' ? maxPending : typeOf(maxPending)}`)
  }
  return maxPending
}

function keyMaterial(key: unknown, name: string): CryptoKeyLike | Uint8Array {
  let bytes: Uint8Array
  if (typeof key === 'string') {
    try {
      bytes = fromBase64(key.trim())
    } catch {
      throw new TypeError(`${name} must be base64 text of 16 or 32 bytes (it is not base64)`)
    }
  } else if (key instanceof Uint8Array) bytes = new Uint8Array(key)
  else if (key instanceof ArrayBuffer) bytes = new Uint8Array(key.slice(0))
  else if (typeof key === 'object' && key !== null && (key as CryptoKeyLike).algorithm?.name === 'AES-GCM') {
    const usages = (key as CryptoKeyLike).usages
    if (!usages.includes('encrypt') || !usages.includes('decrypt')) throw new TypeError(`${name} must be a CryptoKey usable to encrypt and decrypt`)
    return key as CryptoKeyLike
  } else {
    throw new TypeError(`${name} must be 16 or 32 bytes (Uint8Array, ArrayBuffer or base64 text) or an AES-GCM CryptoKey, got ${typeOf(key)}`)
  }
  if (bytes.length !== 16 && bytes.length !== 32) throw new RangeError(`${name} must be 16 or 32 bytes (AES-128 or AES-256), got ${bytes.length}`)
  return bytes
}
