// Validators for responses tiercache stores: the origin's own, or a strong ETag computed once from the body.

/**
 * A strong entity tag (RFC 9110 §8.8.3) for a body: the first 144 bits of its SHA-256 in base64url, quoted. Equal
 * bodies get equal tags in every isolate, so a refill that produced the same bytes still matches the tag a
 * client or Workers Cache revalidates with (and gets a 304).
 *
 * @example
 * await strongEtag(new TextEncoder().encode('hello')) // '"LPJNul-wow4m6DsqxbninhsWHlwf"'
 */
export async function strongEtag(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
  let binary = ''
  for (const byte of digest.subarray(0, 18)) binary += String.fromCharCode(byte)
  return `"${btoa(binary).replace(/\+/g, '-').replace(/\//g, '_')}"`
}

/**
 * The stored response's header list with an ETag added when the origin gave none (and the status is one a
 * conditional request can be answered for). The origin's ETag and Last-Modified are kept as they are.
 */
export async function withEtag(headers: [string, string][], status: number, bytes: Uint8Array): Promise<[string, string][]> {
  if (status !== 200 && status !== 203) return headers
  if (headers.some(([name]) => name === 'etag')) return headers
  return [...headers, ['etag', await strongEtag(bytes)]]
}
