/**
 * What an unsafe request invalidates (RFC 9111 §4.4): after a non-error answer to a method other than GET, HEAD,
 * OPTIONS or TRACE, the stored responses of its URL and of the answer's same-origin Location and Content-Location.
 */

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/**
 * The URLs whose stored responses a request with `method` answered by `response` invalidates; none for a safe
 * method, an error answer (or a 1xx), or a URL that does not resolve against `base` (the page's, if any).
 *
 * @example
 * invalidatedUrls('POST', 'https://a.test/items', new Response(null, { status: 201, headers: { location: '/items/7' } }), undefined)
 * // ['https://a.test/items', 'https://a.test/items/7']
 */
export function invalidatedUrls(method: string, input: RequestInfo | URL, response: Response, base: string | undefined): string[] {
  if (SAFE_METHODS.has(method) || response.status < 200 || response.status >= 400) return []
  const target = absoluteUrl(input instanceof Request ? input.url : String(input), base)
  if (target === undefined) return []
  const urls = [target.href]
  for (const field of ['location', 'content-location']) {
    const other = absoluteUrl(response.headers.get(field), target.href)
    if (other !== undefined && other.origin === target.origin) urls.push(other.href)
  }
  return urls
}

function absoluteUrl(value: string | null, base: string | undefined): URL | undefined {
  if (value === null) return undefined
  try {
    return new URL(value, base)
  } catch {
    return undefined
  }
}
