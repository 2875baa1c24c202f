/**
 * The Web APIs the codec uses, declared structurally (`lib: ES2022` has none of them): CompressionStream and
 * DecompressionStream, WebCrypto's AES-GCM. Browsers, Workers, Node >= 18, Deno and Bun have them; a runtime
 * without CompressionStream stores values uncompressed.
 */
import { concatBytes } from '../bytes.js'

interface StreamReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>
}
interface StreamWriter {
  write(chunk: Uint8Array): Promise<void>
  close(): Promise<void>
}
interface TransformLike {
  readonly readable: { getReader(): StreamReader }
  readonly writable: { getWriter(): StreamWriter }
}
type TransformConstructor = new (format: string) => TransformLike

/** An opaque WebCrypto key (CryptoKey). */
export interface CryptoKeyLike {
  readonly type: string
  readonly algorithm: { readonly name: string }
  readonly usages: readonly string[]
}

interface AesGcmParams {
  name: 'AES-GCM'
  iv: Uint8Array
  additionalData: Uint8Array
}

interface SubtleLike {
  importKey(format: 'raw', key: Uint8Array, algorithm: 'AES-GCM', extractable: false, usages: string[]): Promise<CryptoKeyLike>
  encrypt(params: AesGcmParams, key: CryptoKeyLike, data: Uint8Array): Promise<ArrayBuffer>
  decrypt(params: AesGcmParams, key: CryptoKeyLike, data: Uint8Array): Promise<ArrayBuffer>
}

interface CryptoLike {
  readonly subtle: SubtleLike
  getRandomValues<T extends Uint8Array>(array: T): T
}

const host = globalThis as { CompressionStream?: TransformConstructor; DecompressionStream?: TransformConstructor; crypto?: CryptoLike }

export function compressionStream(): TransformConstructor | undefined {
  return typeof host.CompressionStream === 'function' ? host.CompressionStream : undefined
}

export function decompressionStream(): TransformConstructor | undefined {
  return typeof host.DecompressionStream === 'function' ? host.DecompressionStream : undefined
}

export function webCrypto(): CryptoLike | undefined {
  const crypto = host.crypto
  return typeof crypto?.subtle?.encrypt === 'function' && typeof crypto.getRandomValues === 'function' ? crypto : undefined
}

/** Pushes `bytes` through a compression or decompression stream; rejects when the stream fails (corrupt data). */
export async function transform(stream: TransformLike, bytes: Uint8Array, limit: number): Promise<Uint8Array> {
  const writer = stream.writable.getWriter()
  // Not awaited here: a stream only takes more once its output is read. Their failures surface through read().
  writer.write(bytes).catch(noop)
  writer.close().catch(noop)
  const reader = stream.readable.getReader()
  const chunks: Uint8Array[] = []
  let length = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (value === undefined) continue
    length += value.length
    // A small entry that inflates without end is refused rather than filling memory.
    if (length > limit) throw new RangeError(`decompressed data passes ${limit} bytes`)
    chunks.push(value)
  }
  return concatBytes(chunks)
}

function noop(): void {}
