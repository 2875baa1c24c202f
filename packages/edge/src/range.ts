// Range requests answered from a stored complete response (RFC 9110 §14): one byte range gets a 206.

/**
 * The byte range (inclusive offsets) a GET asks of a complete representation of `size` bytes, when it can be
 * answered with one 206: a single satisfiable `bytes=` range (`a-b`, `a-`, `-n`), and an If-Range, if any, that
 * matches the stored ETag (strong comparison) or Last-Modified exactly (RFC 9110 §13.1.5). Otherwise undefined: the
 * whole 200 answers (several ranges, an unsatisfiable or malformed one, or a stale If-Range; RFC 9110 §14.2 lets a
 * server ignore Range).
 */
export function byteRange(request: Request, size: number, headers: Headers): { start: number; end: number } | undefined {
  const value = request.headers.get('range')
  if (value === null || request.method !== 'GET' || size === 0) return undefined
  const ifRange = request.headers.get('if-range')
  if (ifRange !== null) {
    const tag = ifRange.trim()
    const matches = tag.startsWith('"') ? !tag.startsWith('W/') && headers.get('etag') === tag : headers.get('last-modified') === tag
    if (!matches) return undefined
  }
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value)
  if (m === null) return undefined
  const [, first, last] = m as unknown as [string, string, string]
  if (first === '') {
    if (last === '') return undefined
    const length = Number(last)
    if (length === 0) return undefined
    return { start: Math.max(0, size - length), end: size - 1 }
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (start >= size || end < start) return undefined
  return { start, end }
}
