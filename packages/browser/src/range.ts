/**
 * Range requests answered from a stored complete response (RFC 9110 §14): one byte range as a 206.
 */

/** A satisfiable single byte range, inclusive, or undefined when the header is not one (several ranges, other units, invalid, unsatisfiable). */
export function singleByteRange(header: string, size: number): { start: number; end: number } | undefined {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (m === null) return undefined
  const [, first, last] = m as unknown as [string, string, string]
  if (first === '' && last === '') return undefined
  if (first === '') {
    // suffix-range: the last N bytes (§14.1.1).
    const n = Number(last)
    if (n === 0 || size === 0) return undefined
    return { start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (start >= size || end < start) return undefined
  return { start, end }
}

/** The 206 for `range` of a complete response's bytes (§15.3.7): Content-Range, and the part's length. */
export function partialResponse(full: Response, bytes: Uint8Array<ArrayBuffer>, range: { start: number; end: number }): Response {
  const headers = new Headers(full.headers)
  headers.set('content-range', `bytes ${range.start}-${range.end}/${bytes.byteLength}`)
  headers.set('content-length', String(range.end - range.start + 1))
  const out = new Response(bytes.slice(range.start, range.end + 1), { status: 206, statusText: 'Partial Content', headers })
  Object.defineProperty(out, 'url', { value: full.url })
  return out
}
