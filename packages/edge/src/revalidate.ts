// Origin mode: a stale stored response is revalidated with its validators, and a 304 freshens it without the body
// being sent again (RFC 9111 §4.3.1 sending a validation request, §4.3.4 freshening stored responses, §3.2 updating
// stored header fields).
import { connectionOptions } from '@tiercache/core/http'
import { isStoredField, type StoredResponse } from './stored-response.js'

/**
 * Fields a 304 does not replace: those describing the stored bytes, which the 304 did not carry (RFC 9111 §3.2 lets
 * a cache keep them; a differing ETag on a 304 would no longer describe the body stored under it).
 */
const KEPT_ON_304 = new Set(['content-encoding', 'content-length', 'content-md5', 'content-range', 'etag'])

/** The conditional fields that revalidate a stored response: If-None-Match from its ETag, If-Modified-Since from its Last-Modified. */
export function validatorsOf(stored: StoredResponse): [string, string][] {
  const out: [string, string][] = []
  for (const [name, value] of stored.h) {
    if (name === 'etag') out.push(['if-none-match', value])
    else if (name === 'last-modified') out.push(['if-modified-since', value])
  }
  return out
}

/** Whether a response can be revalidated (it carries an ETag or a Last-Modified). */
export function hasValidator(headers: { has(name: string): boolean }): boolean {
  return headers.has('etag') || headers.has('last-modified')
}

/**
 * The stored fields freshened by a 304: each field the 304 carries replaces the stored ones of that name, except the
 * fields never stored, those its Connection names, and KEPT_ON_304; the stored fields it does not carry stay.
 */
export function freshenedFields(stored: StoredResponse, notModified: Headers): [string, string][] {
  const connection = connectionOptions(notModified)
  const replaced = new Map<string, string[]>()
  notModified.forEach((value, name) => {
    if (connection.has(name) || KEPT_ON_304.has(name) || !isStoredField(name, true)) return
    const values = replaced.get(name)
    if (values === undefined) replaced.set(name, [value])
    else values.push(value)
  })
  const out: [string, string][] = stored.h.filter(([name]) => !replaced.has(name))
  for (const [name, values] of replaced) for (const value of values) out.push([name, value])
  return out
}
