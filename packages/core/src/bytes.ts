/**
 * Bytes and text for entries that hold binary values: UTF-8 and base64 through the host's TextEncoder,
 * TextDecoder, btoa and atob (every runtime tiercache targets has them; `lib: ES2022` does not declare them).
 */

declare const TextEncoder: { new (): { encode(text: string): Uint8Array } }
declare const TextDecoder: { new (label?: string, options?: { fatal?: boolean }): { decode(bytes: Uint8Array): string } }
declare function btoa(binary: string): string
declare function atob(base64: string): string

let encoder: { encode(text: string): Uint8Array } | undefined
let decoder: { decode(bytes: Uint8Array): string } | undefined

export function utf8(text: string): Uint8Array {
  return (encoder ??= new TextEncoder()).encode(text)
}

/** The text in UTF-8 `bytes`; throws on bytes that are not UTF-8 (a wrong value is worse than a miss). */
export function fromUtf8(bytes: Uint8Array): string {
  return (decoder ??= new TextDecoder('utf-8', { fatal: true })).decode(bytes)
}

/** UTF-8 length of `text`, or 0 when it cannot pass `limit` (3 bytes per UTF-16 unit at most: not encoded then). */
export function utf8LengthOver(text: string, limit: number): number {
  if (text.length * 3 <= limit) return 0
  const length = utf8(text).length
  return length > limit ? length : 0
}

export function toBase64(bytes: Uint8Array): string {
  let binary = ''
  // fromCharCode takes arguments: chunks keep the call below engines' argument limits.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[])
  }
  return btoa(binary)
}

/** The bytes of base64 `text` (a new buffer); throws on anything that is not base64. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/** 1 for a Uint8Array (Node's Buffer included), 2 for an ArrayBuffer, 0 for anything else. */
export function binaryKind(value: unknown): 0 | 1 | 2 {
  if (value instanceof Uint8Array) return 1
  if (value instanceof ArrayBuffer) return 2
  return 0
}

export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array
  let length = 0
  for (const chunk of chunks) length += chunk.length
  const out = new Uint8Array(length)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}
