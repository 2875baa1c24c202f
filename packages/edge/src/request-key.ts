import { sha256Hex } from './validate.js'

/** Request fields that make a request conditional or partial (RFC 9110 §13.1, §14.2): never sent on a fill. */
const CONDITIONAL = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'if-range', 'range']

/** Keys longer than this are replaced by their SHA-256, within core's 1024-character limit. */
const MAX_KEY = 512

/**
 * The cache key of a GET or HEAD request: `<prefix>GET <url>` (HEAD shares the GET entry; the fragment is
 * dropped), then `\n<name>: <value>` for each request header named in `vary`, in the order given (lowercase
 * names; a missing header keys as empty). A key longer than 512 characters becomes `<prefix>#<sha-256>`.
 */
export function requestKey(request: Request, vary: readonly string[], prefix: string): string | Promise<string> {
  const url = new URL(request.url)
  url.hash = ''
  let key = `${prefix}GET ${url.href}`
  for (const name of vary) key += `\n${name}: ${normalize(request.headers.get(name))}`
  if (key.length <= MAX_KEY) return key
  return sha256Hex(key).then((digest) => `${prefix}#${digest}`)
}

/**
 * The request sent to the origin to fill the cache: a GET (also for a client's HEAD) without the client's
 * conditional and range fields, so that the origin answers a complete 200 the cache can store.
 */
export function fillRequest(request: Request): Request {
  const headers = new Headers(request.headers)
  for (const name of CONDITIONAL) headers.delete(name)
  return new Request(request, { method: 'GET', headers })
}

/** Header values differing only in spacing or case of list separators key the same. */
function normalize(value: string | null): string {
  if (value === null) return ''
  return value
    .split(',')
    .map((part) => part.trim())
    .join(',')
}
