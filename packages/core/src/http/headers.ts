/** The part of a Headers object these helpers read: what Fetch's Headers, Hono's and undici's all have. */
export interface HeadersLike {
  get(name: string): string | null
}

/** A Headers object that can also be walked (for the never-stored fields). */
export interface IterableHeadersLike extends HeadersLike {
  forEach(callback: (value: string, name: string) => void): void
}

/**
 * Response fields never stored or replayed (RFC 9111 §3.1): the connection-specific ones (RFC 9110 §7.6.1),
 * cookies (a shared cache must not replay one user's Set-Cookie to another), and Content-Length, recomputed from the
 * stored bytes. Names lowercase.
 */
export const NEVER_STORED: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'set-cookie',
  'set-cookie2',
  'content-length',
])

/** The field names the Connection field lists (RFC 9110 §7.6.1): hop-by-hop too, never stored. Lowercase. */
export function connectionOptions(headers: HeadersLike): Set<string> {
  const out = new Set<string>()
  for (const name of (headers.get('connection') ?? '').split(',')) {
    const trimmed = name.trim().toLowerCase()
    if (trimmed !== '') out.add(trimmed)
  }
  return out
}

/**
 * The fields of `headers` worth storing, in order: all but NEVER_STORED, those Connection names, and `drop`
 * (lowercase names; say, content-encoding when fetch decoded the body).
 *
 * @example
 * storableHeaders(new Headers({ 'set-cookie': 'a=1', etag: '"v1"' })) // [['etag', '"v1"']]
 */
export function storableHeaders(headers: IterableHeadersLike, drop: Iterable<string> = []): [string, string][] {
  const skipped = connectionOptions(headers)
  for (const name of drop) skipped.add(name)
  const out: [string, string][] = []
  headers.forEach((value, name) => {
    const lower = name.toLowerCase()
    if (!NEVER_STORED.has(lower) && !skipped.has(lower)) out.push([lower, value])
  })
  return out
}

/**
 * The request field names a Vary value lists, lowercase, deduplicated and sorted; '*' when it varies on everything.
 *
 * @example
 * varyNames('Accept-Encoding, accept-language') // ['accept-encoding', 'accept-language']
 */
export function varyNames(value: string | null): string[] | '*' {
  if (value === null) return []
  const names = new Set<string>()
  for (const part of value.split(',')) {
    const name = part.trim().toLowerCase()
    if (name === '*') return '*'
    if (name !== '') names.add(name)
  }
  return [...names].sort()
}

/**
 * One Vary value naming every field of both (say, the origin's and the one a layer adds); '*' absorbs the rest.
 *
 * @example
 * mergeVary('Accept-Encoding', 'Cookie, accept-encoding') // 'accept-encoding, cookie'
 */
export function mergeVary(a: string | null, b: string | null): string | null {
  const left = varyNames(a)
  const right = varyNames(b)
  if (left === '*' || right === '*') return '*'
  const names = [...new Set([...left, ...right])].sort()
  return names.length === 0 ? null : names.join(', ')
}

/**
 * `value` (a response's Vary) as written, followed by each of `names` it does not list (case-insensitive): for a
 * layer that adds the request fields it keys by and leaves the origin's text alone, where mergeVary would rewrite
 * it lowercase and sorted.
 *
 * @example
 * appendVary('Accept-Language, Accept-Encoding', ['accept-language', 'x-tenant']) // 'Accept-Language, Accept-Encoding, x-tenant'
 */
export function appendVary(value: string | null, names: readonly string[]): string {
  const fields = value === null ? [] : value.split(',').map((field) => field.trim()).filter((field) => field !== '')
  const listed = new Set(fields.map((field) => field.toLowerCase()))
  for (const name of names) if (!listed.has(name.toLowerCase())) listed.add(name.toLowerCase()) && fields.push(name)
  return fields.join(', ')
}

/** Request fields whose values are case-insensitive (language ranges, codings, charsets). */
const CASE_INSENSITIVE = new Set(['accept-language', 'accept-encoding', 'accept-charset'])

/**
 * A request field's value normalized as RFC 9111 §4.1 allows, to compare against the value a stored response was
 * selected by: whitespace around list commas dropped and runs of it collapsed, lowercased where the field's values
 * are case-insensitive. null when absent.
 */
export function selectedValue(headers: HeadersLike, name: string): string | null {
  const value = headers.get(name)
  if (value === null) return null
  const normalized = value
    .split(',')
    .map((part) => part.replace(/\s+/g, ' ').trim())
    .join(',')
  return CASE_INSENSITIVE.has(name.toLowerCase()) ? normalized.toLowerCase() : normalized
}
