import type { Duration, Entry, Store } from '@tiercache/core'
import { decodeEntry, encodeEntryBytes, lastServable } from '@tiercache/core/store'
import { assertOptions, noop, optionalDuration, optionalFunction, optionalString, typeOf, withDeadline } from '@tiercache/core/kit'
import { sha256Hex } from './digest.js'

/** The part of a Workers `Cache` the store uses. */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>
  put(request: string, response: Response): Promise<void>
  delete(request: string): Promise<boolean>
}

/** The part of Workers `caches` the store uses: `caches.default` and `caches.open(name)`. */
export interface CacheStorageLike {
  readonly default?: CacheLike
  open(cacheName: string): Promise<CacheLike>
}

export interface CacheApiStoreOptions {
  /** Cache opened with `caches.open(cacheName)`; without it the store uses `caches.default`. @default undefined */
  cacheName?: string
  /** Longest time an entry stays here; core ends every window of what it writes by then. @default none */
  maxTtl?: Duration
  /** The CacheStorage to use (inject one in tests or outside Workers). @default globalThis.caches */
  caches?: CacheStorageLike
  /** Clock for remaining lifetimes, in epoch ms; give it the cache's clock. @default Date.now */
  now?: () => number
  /** The store's name in stats, events and Cache-Status. @default 'cache-api' */
  name?: string
  /**
   * Where the one-time warning goes when the Cache API looks like a no-op (the first entry written reads back as
   * a miss while it still had time to live: `*.workers.dev` hosts, some local setups). @default console.warn
   */
  warn?: (message: string) => void
}

/** Origin of the synthetic request URLs entries are kept under; never fetched. */
const ORIGIN = 'https://tiercache.internal'
/** Keys whose escaped form is longer than this are kept under their SHA-256 instead (URLs stay short). */
const MAX_ESCAPED_KEY = 1_024

/**
 * A Store on the Workers Cache API (per data centre, shared by the isolates there).
 * An entry is a synthetic GET request, `https://tiercache.internal/k/<escaped key>` (or `/h/<sha-256>` for a long
 * key), whose body is the entry's envelope and whose `Cache-Control: public, max-age=<s>` is the entry's
 * remaining servable time, rounded up: the Cache API expires it on the real clock, and core decides freshness,
 * stale-while-revalidate and stale-if-error from the times inside the envelope. A binary value (or a codec's
 * encrypted or compressed payload) is kept as bytes after the envelope's JSON header, without base64. An entry with no time left is
 * deleted instead of written, and a body that does not decode is deleted and reads as a miss.
 * The Cache API does nothing on `*.workers.dev` hosts: deploy on a route of your zone.
 *
 * @example
 * const cache = createCache({ tiers: [cacheApiStore({ cacheName: 'api' }), upstashStore({ redis })] })
 */
export function cacheApiStore(options: CacheApiStoreOptions = {}): Store {
  assertOptions(options, 'cacheApiStore(options)')
  const { cacheName } = options
  if (cacheName === '') throw new RangeError('options.cacheName must not be empty: leave it out to use caches.default')
  optionalString(cacheName, 'options.cacheName')
  optionalString(options.name, 'options.name', undefined, 64)
  optionalFunction(options.now, 'options.now')
  optionalFunction(options.warn, 'options.warn')
  const maxTtl = optionalDuration(options.maxTtl, 'options.maxTtl')
  if (maxTtl === 0) throw new RangeError('options.maxTtl must be longer than 0 ms')
  const storage = options.caches ?? (globalThis as { caches?: CacheStorageLike }).caches
  if (typeof storage !== 'object' || storage === null || typeof storage.open !== 'function') {
    throw new TypeError(`options.caches must be a CacheStorage (Workers' caches), got ${typeOf(storage)}: outside Workers, pass one`)
  }
  if (cacheName === undefined && (typeof storage.default !== 'object' || storage.default === null)) {
    throw new TypeError('options.caches has no default cache: pass options.cacheName to use caches.open(cacheName)')
  }
  const now = options.now ?? Date.now
  const name = options.name ?? 'cache-api'
  // The no-op check: the first entry written is watched until it is read back (or deleted, which re-arms it).
  // undefined: nothing written yet; null: checked (or warned), never again.
  let watched: { url: string; until: number } | undefined | null
  const readBack = (url: string, found: boolean): void => {
    if (watched === undefined || watched === null || watched.url !== url) return
    const { until } = watched
    watched = null
    if (!found && now() < until - 1_000) {
      ;(options.warn ?? console.warn)(
        `tiercache: ${name} (cacheApiStore) read back the first entry it wrote as a miss while it had ${Math.round((until - now()) / 1000)} s to live: ` +
          'the Cache API stores nothing on *.workers.dev hosts and in some local setups, so this tier never hits there. Deploy on a route of your zone (or leave cacheApiStore out).',
      )
    }
  }
  let opened: Promise<CacheLike> | undefined
  const open = (): Promise<CacheLike> => {
    if (opened === undefined) {
      opened = cacheName === undefined ? Promise.resolve(storage.default as CacheLike) : storage.open(cacheName)
      // A failed open is retried by the next operation instead of failing every later one.
      opened.catch(() => {
        opened = undefined
      })
    }
    return opened
  }

  // Writes to one key apply in the order they were called: a fill started before a newer write must not land
  // after it (Cache API puts and deletes are asynchronous and may otherwise finish in any order). Reads wait
  // for the writes issued before them. In Workers the previous write may belong to another request: its
  // completion is adopted into a promise of this caller's own (so that what follows runs in this caller's
  // request), and waited for at most WRITE_WAIT_MS (a write its request abandoned never settles).
  const writing = new Map<string, Promise<unknown>>()
  function inOrder<T>(key: string, operation: () => Promise<T>): Promise<T> {
    const previous = writing.get(key)
    const run = previous === undefined ? operation() : settledWithin(previous, WRITE_WAIT_MS).then(operation)
    writing.set(key, run)
    const clear = (): void => {
      if (writing.get(key) === run) writing.delete(key)
    }
    run.then(clear, clear)
    return run
  }
  function afterWrites(key: string): Promise<unknown> | undefined {
    const pending = writing.get(key)
    return pending === undefined ? undefined : settledWithin(pending, WRITE_WAIT_MS)
  }

  return {
    name,
    maxTtl,
    // Cloudflare caches objects up to 512 MB.
    maxValueBytes: 512 * 1024 * 1024,
    async get(key) {
      await afterWrites(key)
      const [cache, url] = await Promise.all([open(), urlOf(key)])
      const response = await cache.match(url)
      readBack(url, response !== undefined)
      if (response === undefined) return undefined
      // Bytes: an entry with a binary value (or a codec's payload) keeps it unencoded after its JSON header.
      const entry = decodeEntry(await response.arrayBuffer())
      if (entry === undefined) {
        await inOrder(key, () => cache.delete(url))
        return undefined
      }
      return lastServable(entry) > now() ? entry : undefined
    },
    set(key, entry) {
      return inOrder(key, async () => {
        const [cache, url] = await Promise.all([open(), urlOf(key)])
        const left = lastServable(entry) - now()
        // Nothing servable is left: what was stored under the key is replaced by nothing.
        if (left <= 0) {
          await cache.delete(url)
          if (watched?.url === url) watched = undefined
        } else {
          await cache.put(url, entryResponse(entry, left))
          if (watched === undefined) watched = { url, until: now() + left }
        }
      })
    },
    delete(key) {
      return inOrder(key, async () => {
        const [cache, url] = await Promise.all([open(), urlOf(key)])
        await cache.delete(url)
        if (watched?.url === url) watched = undefined
      })
    },
  }
}

/** Longest wait for an earlier write of the same key before going ahead. */
const WRITE_WAIT_MS = 2_000

/** Resolves once `promise` settled, or after `ms` (on a timer of the caller's), whichever comes first; never rejects. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return withDeadline(promise.then(noop, noop), ms, noop)
}

/**
 * The response the Cache API keeps for an entry with `leftMs` to live. workerd stores nothing for
 * `no-store`, `private`, `public` alone, `max-age=0` or a missing Cache-Control, so max-age is always >= 1.
 */
function entryResponse(entry: Entry, leftMs: number): Response {
  const body = encodeEntryBytes(entry)
  return new Response(body, {
    headers: {
      'cache-control': `public, max-age=${Math.max(1, Math.ceil(leftMs / 1000))}`,
      'content-type': typeof body === 'string' ? 'application/json' : 'application/octet-stream',
    },
  })
}

/** The synthetic URL a key is kept under (exported for tests and debugging). */
export function urlOf(key: string): string | Promise<string> {
  const escaped = encodeURIComponent(key)
  if (escaped.length <= MAX_ESCAPED_KEY) return `${ORIGIN}/k/${escaped}`
  return sha256Hex(key).then((digest) => `${ORIGIN}/h/${digest}`)
}
