/** The Web globals the body codec uses: in every runtime tiercache supports (Node 20+, workerd, browsers, Bun, Deno). */
declare const TextDecoder: new (label: string, options: { fatal: boolean; ignoreBOM: boolean }) => { decode(bytes: Uint8Array): string }
declare const TextEncoder: new () => { encode(text: string): Uint8Array<ArrayBuffer> }
declare function btoa(data: string): string
declare function atob(data: string): string

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
    let binary = ''
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
    return { body: btoa(binary), b64: 1 }
  }
}

/** Fresh bytes of an encoded body (a new buffer each time). */
export function decodeBody(stored: EncodedBody): Uint8Array<ArrayBuffer> {
  if (stored.b64 !== 1) return new TextEncoder().encode(stored.body)
  const binary = atob(stored.body)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}
