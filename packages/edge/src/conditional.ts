/**
 * Whether a conditional GET/HEAD can be answered 304 Not Modified from a stored 200 with these headers
 * (RFC 9110 §13.1.2 If-None-Match with weak comparison, §13.1.3 If-Modified-Since, which is ignored when
 * If-None-Match is present, compared with Last-Modified, else Date: RFC 9111 §4.3.2).
 */
export function notModified(request: Request, status: number, headers: Headers): boolean {
  if (status !== 200) return false
  const ifNoneMatch = request.headers.get('if-none-match')
  if (ifNoneMatch !== null) {
    const etag = headers.get('etag')
    if (etag === null) return false
    if (ifNoneMatch.trim() === '*') return true
    const opaque = weak(etag)
    return ifNoneMatch.split(',').some((candidate) => weak(candidate) === opaque)
  }
  const ifModifiedSince = request.headers.get('if-modified-since')
  // Without Last-Modified, the stored response's Date stands for it (RFC 9111 §4.3.2).
  const lastModified = headers.get('last-modified') ?? headers.get('date')
  if (ifModifiedSince === null || lastModified === null) return false
  const since = Date.parse(ifModifiedSince)
  const modified = Date.parse(lastModified)
  return Number.isFinite(since) && Number.isFinite(modified) && modified <= since
}

/** Fields a 304 carries from the 200 it stands for (RFC 9110 §15.4.5), besides the cache's own. */
export const NOT_MODIFIED_FIELDS = ['content-location', 'date', 'etag', 'last-modified', 'vary']

/** The opaque part of an entity tag: weak comparison ignores the W/ prefix. */
function weak(tag: string): string {
  const trimmed = tag.trim()
  return trimmed.startsWith('W/') ? trimmed.slice(2) : trimmed
}
