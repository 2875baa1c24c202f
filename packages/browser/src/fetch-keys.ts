/**
 * Cache keys of the cached fetch: `<prefix>GET <url>` for a URL, and for a Vary variant of it
 * `<prefix>GET <url> <generation> <selected values>`. The generation changes whenever the URL's entry is replaced
 * from scratch, which orphans its variants. Keys past the room left by the namespace are shortened with a hash
 * (the stored URL is checked on every read).
 */
import { selectedValue } from '@tiercache/core/http'
import type { StoredResponse } from './stored-response.js'

export function fetchKeys(prefix: string, room: number) {
  const fit = (key: string): string => (key.length <= room ? key : `${key.slice(0, room - 16)}#${hash(key)}`)
  return {
    baseKey: (url: string): string => fit(`${prefix}GET ${url}`),
    variantKey: (url: string, of: StoredResponse, headers: Headers): string =>
      fit(`${prefix}GET ${url} ${of.gen ?? ''} ${JSON.stringify(Object.keys(of.vary ?? {}).map((name) => selectedValue(headers, name)))}`),
  }
}

/** A new generation for a URL's variants. */
export function newGen(): string {
  return Math.random().toString(36).slice(2, 10)
}

/** cyrb53: a fast 53-bit string hash, for shortening over-long keys (and telling values apart in updates.ts). */
export function hash(text: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36)
}
