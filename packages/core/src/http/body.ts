import { fromBase64, toBase64 } from '../bytes.js'

/** The Web globals the body codec uses: in every runtime tiercache supports (Node 20+, workerd, browsers, Bun, Deno). */
declare const TextDecoder: new (label: string, options: { fatal: boolean; ignoreBOM: boolean }) => { decode(bytes: Uint8Array): string }
declare const TextEncoder: new () => { encode(text: string): Uint8Array<ArrayBuffer> }

/** A stored body: UTF-8 text, or base64 when `b64` is 1. */
export interface EncodedBody {
  body: string
  b64?: 1
}

let utf8: { decode(bytes: Uint8Array): string } | undefined

/**
 * A body for a JSON-compatible entry: the text when the bytes are valid UTF-8 (byte-exact on the way back: a BOM is
 * kept), else base64.
 *
 * @example
 * decodeBody(encodeBody(bytes)) // the same bytes
 */
export function encodeBody(bytes: Uint8Array): EncodedBody {
  try {
    utf8 ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
    return { body: utf8.decode(bytes) }
  } catch {
    return { body: toBase64(bytes), b64: 1 }
  }
}

/** Fresh bytes of an encoded body (a new buffer each time). */
export function decodeBody(stored: EncodedBody): Uint8Array<ArrayBuffer> {
  return stored.b64 === 1 ? fromBase64(stored.body) : new TextEncoder().encode(stored.body)
}
