import { sha256Hex } from './digest.js'

/** Request fields that make a request conditional or partial (RFC 9110 §13.1, §14.2): never sent on a fill. */
const CONDITIONAL = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range', 'range']

/** Keys longer than this are replaced by their SHA-256, within core's 1024-character limit. */
const MAX_KEY = 512

/**
 * Request headers an origin may reflect into its answer (links, redirects, the method it runs) although a cache
 * keyed by method and URL ignores them: sent by an attacker, they would poison the entry everyone is served.
 * The default of withCache's and tiercache()'s `unkeyedHeaderNames`.
 *
 * @example
 * withCache(handler, { cache, policy, unkeyedHeaderNames: [...UNKEYED_HEADERS, 'x-tenant-hint'] })
 */
export const UNKEYED_HEADERS: readonly string[] = [
  'forwarded',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-scheme',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-host',
  'x-original-host',
  'x-original-url',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]

/**
 * The cache key of a GET or HEAD request: `<prefix>GET <url>` (HEAD shares the GET entry; the fragment is
 * dropped), then for each request header named in `vary`, in the order given (lowercase names),
 * `\n<name>: <value>` when the request has it (even empty) and `\n<name>` when it does not, so that an empty
 * value and a missing header never share an entry. A key longer than 512 characters becomes `<prefix>#<sha-256>`.
 */
export function requestKey(request: Request, vary: readonly string[], prefix: string): string | Promise<string> {
  const url = new URL(request.url)
  url.hash = ''
  let key = `${prefix}GET ${url.href}`
  for (const name of vary) {
    const value = request.headers.get(name)
    key += value === null ? `\n${name}` : `\n${name}: ${normalize(value)}`
  }
  if (key.length <= MAX_KEY) return key
  return sha256Hex(key).then((digest) => `${prefix}#${digest}`)
}

/**
 * The request sent to the origin to fill the cache: a GET (also for a client's HEAD) without the client's
 * conditional and range fields, so that the origin answers a complete 200 the cache can store; `validators`
 * (the stored response's If-None-Match / If-Modified-Since) make it a revalidation instead.
 */
export function fillRequest(request: Request, validators: readonly (readonly [string, string])[] = []): Request {
  const headers = new Headers(request.headers)
  for (const name of CONDITIONAL) headers.delete(name)
  for (const [name, value] of validators) headers.set(name, value)
  return new Request(request, { method: 'GET', headers })
}

/** The request without the headers named (lowercase), or the request itself when it has none of them. */
export function withoutHeaders(request: Request, names: readonly string[]): Request {
  const present = names.filter((name) => request.headers.has(name))
  if (present.length === 0) return request
  const headers = new Headers(request.headers)
  for (const name of present) headers.delete(name)
  return new Request(request, { headers })
}

/** Header values differing only in spacing around list separators key the same. */
function normalize(value: string): string {
  return value
    .split(',')
    .map((part) => part.trim())
    .join(',')
}
