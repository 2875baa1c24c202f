// Invalidation by URL and by path prefix in tiercache's own tiers: a response stored with `urlTags` carries a tag for
// its URL and one for each whole-segment prefix of its path, so that invalidating those tags through the coordinator
// reaches every isolate and data centre, as invalidateEverywhere({ urls, pathPrefixes }) does for Workers Cache.
import { cdnTag } from './cdn-headers.js'
import { typeOf } from '@tiercache/core/kit'

/** Longest URL or path kept as it is inside a tag; longer ones (and those with commas or spaces) are hashed. */
const MAX_PLAIN = 200

/**
 * Path prefixes get tags down to this many slashes; a deeper prefix is invalidated through its ancestor with this
 * many (more, never less), which keeps a response's tags at most 2 + 2 x 8, within core's 64 with the policy's.
 */
const MAX_SLASHES = 8

/** The tag of one URL: `~url:` and the URL without its fragment (hashed when long or unsafe). */
export function urlTag(url: URL): string {
  const href = url.hash === '' ? url.href : url.href.slice(0, url.href.length - url.hash.length)
  return `~url:${cdnTag(href, { maxTagLength: MAX_PLAIN })}`
}

function pathTag(prefix: string): string {
  return `~path:${cdnTag(prefix, { maxTagLength: MAX_PLAIN })}`
}

/**
 * The tag invalidating a path prefix (percent-encoded as URLs are): its own, or, past MAX_SLASHES, its ancestor's
 * ending at that slash.
 */
export function prefixTag(prefix: string): string {
  let slashes = 0
  for (let i = 0; i < prefix.length; i++) {
    if (prefix[i] === '/' && ++slashes === MAX_SLASHES) return pathTag(prefix.slice(0, i + 1))
  }
  return pathTag(prefix)
}

/**
 * The tags a response stored for `url` carries: its URL's, and for each whole-segment prefix of its path one tag
 * with and one without the trailing slash (`/a/b` gets `/`, `/a`, `/a/`, `/a/b`), so that a path prefix reaches the
 * paths it names segment by segment (`/api/products` reaches `/api/products/1`, not `/api/products-old`).
 */
export function urlTags(url: URL): string[] {
  const tags = [urlTag(url)]
  const path = url.pathname
  let slashes = 0
  for (let i = 0; i < path.length; i++) {
    if (path[i] !== '/') continue
    if (++slashes > MAX_SLASHES) return tags
    if (i > 0) tags.push(pathTag(path.slice(0, i)))
    tags.push(pathTag(path.slice(0, i + 1)))
  }
  if (!path.endsWith('/') && slashes < MAX_SLASHES) tags.push(pathTag(path))
  return tags
}

/** What invalidateEverywhere invalidates: tags, single URLs, path prefixes (any of them). */
export interface InvalidationTarget {
  /** The policy's tags (as written in the policy; Cache-Tag and purges write them as cdnTag does). */
  tags?: readonly string[] | undefined
  /**
   * Absolute URLs (`https://shop.example/api/products/1?lang=en`): every stored variant of each. Workers Cache gets
   * their path and query as path prefixes (it purges by prefix: `/p/1` also reaches `/p/10`, more, never less).
   */
  urls?: readonly string[] | undefined
  /**
   * Paths starting with `/` (`/api/products/`): everything stored under them. tiercache's tiers match whole segments
   * (`/api/products` reaches `/api/products` and `/api/products/1`, not `/api/products-old`); Workers Cache matches
   * the characters.
   */
  pathPrefixes?: readonly string[] | undefined
}

/** A checked target: its parts as arrays, URLs parsed. */
export interface ResolvedTarget {
  tags: readonly string[]
  urls: URL[]
  pathPrefixes: string[]
}

/** Checks an invalidation target (an array of tags, or an InvalidationTarget), throwing at the call site on bad input. */
export function resolveTarget(target: unknown): ResolvedTarget {
  if (Array.isArray(target)) return { tags: target as string[], urls: [], pathPrefixes: [] }
  if (typeof target !== 'object' || target === null) {
    throw new TypeError(`target must be an array of tags or { tags?, urls?, pathPrefixes? }, got ${typeOf(target)}`)
  }
  const { tags, urls, pathPrefixes } = target as InvalidationTarget
  for (const [name, value] of Object.entries({ tags, urls, pathPrefixes })) {
    if (value !== undefined && !Array.isArray(value)) throw new TypeError(`target.${name} must be an array of strings, got ${typeOf(value)}`)
  }
  const parsed = (urls ?? []).map((url: unknown, i) => {
    if (typeof url !== 'string') throw new TypeError(`target.urls[${i}] must be a string, got ${typeOf(url)}`)
    try {
      return new URL(url)
    } catch {
      throw new TypeError(`target.urls[${i}] must be an absolute URL (https://host/path), got ${JSON.stringify(url)}`)
    }
  })
  const prefixes = (pathPrefixes ?? []).map((prefix: unknown, i) => {
    if (typeof prefix !== 'string' || !prefix.startsWith('/') || /[\s?#]/.test(prefix)) {
      throw new RangeError(`target.pathPrefixes[${i}] must be a path starting with "/" without spaces, query or fragment, got ${JSON.stringify(prefix)}`)
    }
    // Encoded as request URLs are (`/café/` is `/caf%C3%A9/`), so that the tags match.
    return new URL(prefix, 'https://tiercache.invalid').pathname
  })
  return { tags: tags ?? [], urls: parsed, pathPrefixes: prefixes }
}
