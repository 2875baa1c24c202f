import { formatCacheStatus, namespacePrefix, type Cache, type CacheEvent, type Entry } from '@tiercache/core'
import { fromEnvelope } from '@tiercache/core/store'
import { assertOptions, optionalFunction, optionalInteger, optionalString, typeOf } from '@tiercache/core/kit'
import { fetchKeys, hash } from './fetch-keys.js'
import { isStoredResponse, toResponse, type StoredResponse } from './stored-response.js'

/**
 * Options of `cacheUpdates`.
 *
 * @example
 * const options: CacheUpdatesOptions = { channel: 'my-app' }
 */
export interface CacheUpdatesOptions {
  /**
   * The BroadcastChannel that `broadcastInvalidation` uses in every tab: its `write` messages bring the other tabs'
   * updates. Give the same name as to `broadcastInvalidation`.
   * @default 'tiercache'
   */
  channel?: string
  /** How many keys' last values (and last writes) are remembered to tell a change from a confirmation. @default 1000 */
  remember?: number
  /** Clock (epoch ms) for `since` and the Age of update responses. @default Date.now */
  now?: () => number
  /** The BroadcastChannel constructor; where there is none, only this tab's updates are heard. @default globalThis.BroadcastChannel */
  BroadcastChannel?: typeof BroadcastChannel
}

/** Options of one subscription. */
export interface OnUpdateOptions {
  /**
   * Also deliver writes made after this moment (epoch ms, the updates' clock) but before the subscription: take
   * `Date.now()` before the read whose value you show, subscribe after it, and a refresh that finished in between is
   * not lost. The last such write of the key is delivered at once (in a microtask).
   */
  since?: number
  /** Also deliver refreshes that stored the value already known (`changed: false`). @default false */
  unchanged?: boolean
}

/**
 * A new value stored for a key: by a load (a background refresh, or a load after a miss) or a set, in another tab,
 * or in this one when it already had a value for the key (the first value this tab loads or sets is its caller's,
 * not an update).
 */
export interface CacheUpdate<V = unknown> {
  /** The key as the caller gives it to the cache. */
  readonly key: string
  /** The new value; null when the load found nothing (a negative entry). */
  readonly value: V | null
  /** The new entry: its times (createdAt, freshUntil, staleUntil), tags (namespaced). */
  readonly entry: Entry
  /** Whether the value differs from the last one this tab knew for the key (true when another tab stored the first one this tab hears of). */
  readonly changed: boolean
  /** Written by another tab (heard over the BroadcastChannel). */
  readonly remote: boolean
}

/** A new response stored for a URL by a `createCachedFetch` of the same cache (a revalidation, in any tab). */
export interface FetchUpdate {
  /** The URL as the cached fetch keys it (absolute, no fragment). */
  readonly url: string
  readonly status: number
  /** Whether status or body differ from the last response this tab knew (a 304 or an identical body: false). */
  readonly changed: boolean
  readonly remote: boolean
  /** The stored response as a new `Response` (its own body each call; `Cache-Status: …; hit; detail=update`). */
  response(): Response
}

/** Options of `onFetchUpdate`. */
export interface OnFetchUpdateOptions extends OnUpdateOptions {
  /** The `keyPrefix` of the `createCachedFetch` whose responses to watch. @default 'fetch:' */
  keyPrefix?: string
  /** Its `cacheName`, for the Cache-Status of `response()`. @default 'tiercache' */
  cacheName?: string
}

/**
 * What `cacheUpdates` returns.
 *
 * @example
 * const updates: CacheUpdates = cacheUpdates(cache)
 * const stop = updates.onUpdate<User>('user:1', ({ value }) => render(value))
 * stop()
 * updates.close()
 */
export interface CacheUpdates {
  /**
   * Calls `listener` whenever a new value for `key` is stored, in this tab or another; returns the unsubscribe
   * function. A function instead of a key watches every key it accepts (e.g. `(key) => key.startsWith('user:')`).
   */
  onUpdate<V = unknown>(key: string | ((key: string) => boolean), listener: (update: CacheUpdate<V>) => void, options?: OnUpdateOptions): () => void
  /** The same for the response a `createCachedFetch` on this cache stores for `url` (relative URLs resolve against the page). */
  onFetchUpdate(url: string | URL, listener: (update: FetchUpdate) => void, options?: OnFetchUpdateOptions): () => void
  /** Whether other tabs' updates are heard (false where there is no BroadcastChannel). */
  readonly crossTab: boolean
  /** Stops listening to the cache and the channel; listeners are dropped. Safe to call twice. */
  close(): void
}

interface Subscription {
  listener: (update: CacheUpdate) => void
  unchanged: boolean
  /** For a subscription to every key it accepts. */
  match?: (key: string) => boolean
}

interface Write {
  entry: Entry
  /** What this tab knew for the key just before. */
  before: Entry | undefined
  at: number
  remote: boolean
}

/** Core's default longest key: fetch keys are shortened past it (as createCachedFetch does). */
const MAX_KEY = 1024

/**
 * Stale-then-fresh notifications: tells subscribers of a key when a new value was stored for it — a background
 * refresh after a stale answer, a load in another tab, a `set` — with the value and whether it actually changed.
 *
 * - **This tab**: from the cache's `write` events. **Other tabs**: from the `write` messages `broadcastInvalidation`
 *   sends on its BroadcastChannel (use it in every tab, on the same channel name).
 * - **Changed or not**: the new value is compared with the last one this tab saw for the key (read, loaded or
 *   heard), by a hash of its JSON (for a cached fetch's response: status and body, so a 304 or an identical body
 *   is no change). Unchanged refreshes reach only subscribers that asked for them (`unchanged: true`).
 * - **Nothing lost**: subscribe before reading, or pass `since` (a time taken before the read): the last write
 *   after it is delivered at once.
 *
 * @example
 * const updates = cacheUpdates(cache, { channel: 'my-app' })
 * const user = await cache.getOrSet('user:1', loadUser) // stale within swr: answered now, refreshed in the background
 * updates.onUpdate('user:1', ({ value }) => render(value)) // the refreshed user, from this tab or another
 */
export function cacheUpdates(cache: Cache, options: CacheUpdatesOptions = {}): CacheUpdates {
  if (typeof cache !== 'object' || cache === null || typeof cache.subscribe !== 'function') {
    throw new TypeError(`cacheUpdates(cache) needs a cache from createCache(), got ${typeOf(cache)}`)
  }
  assertOptions(options, 'cacheUpdates(options)', true)
  const name = optionalString(options.channel, 'options.channel') ?? 'tiercache'
  const remember = optionalInteger(options.remember, 'options.remember', 1) ?? 1_000
  const now = optionalFunction<() => number>(options.now, 'options.now') ?? Date.now
  const Channel = optionalFunction<typeof BroadcastChannel>(options.BroadcastChannel, 'options.BroadcastChannel') ?? globalThis.BroadcastChannel
  const ns = cache.namespace
  const prefix = namespacePrefix(ns)

  /** The last entry this tab saw for each key (read or written): what a new value is compared with. */
  const seen = new Map<string, Entry>()
  /** The last write of each key, for subscribers that come late (`since`). */
  const writes = new Map<string, Write>()
  const subscriptions = new Map<string, Set<Subscription>>()
  /** Subscriptions to keys a function accepts. */
  const matching = new Set<Subscription>()
  /** Fingerprints of entries, computed once. */
  const prints = new WeakMap<Entry, string>()

  const bounded = <T>(map: Map<string, T>, key: string, value: T): void => {
    map.delete(key)
    map.set(key, value)
    if (map.size > remember) map.delete(map.keys().next().value as string)
  }

  const print = (entry: Entry): string => {
    let p = prints.get(entry)
    if (p === undefined) {
      p = fingerprint(entry)
      prints.set(entry, p)
    }
    return p
  }
  const changedFrom = (write: Write): boolean => write.before === undefined || print(write.before) !== print(write.entry)

  const deliver = (key: string, write: Write, to: Iterable<Subscription>): void => {
    let changed: boolean | undefined
    for (const sub of to) {
      changed ??= changedFrom(write)
      if (!changed && !sub.unchanged) continue
      const update: CacheUpdate = { key, value: write.entry.negative === true ? null : write.entry.value, entry: write.entry, changed, remote: write.remote }
      try {
        sub.listener(update)
      } catch (error) {
        // A failing listener must not stop the others, nor the cache.
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }

  /** When this tab's last write of each key was created: its echo from this tab's broadcastInvalidation is no news. */
  const own = new Map<string, number>()

  const wrote = (key: string, entry: Entry, remote: boolean): void => {
    // This tab's own write coming back over the channel (broadcastInvalidation of this tab sent it): handled already.
    if (remote && own.get(key) === entry.createdAt) return
    if (!remote) bounded(own, key, entry.createdAt)
    const before = seen.get(key)
    const write: Write = { entry, before, at: now(), remote }
    bounded(seen, key, entry)
    // The first value this tab has for a key, stored by this tab (a load after a miss, a first set): whoever
    // loaded or set it has it. Not an update; it is the baseline of the next one.
    if (!remote && before === undefined) return
    bounded(writes, key, write)
    const subs = subscriptions.get(key)
    if (subs !== undefined) deliver(key, write, [...subs])
    if (matching.size > 0) deliver(key, write, [...matching].filter((sub) => (sub.match as (key: string) => boolean)(key)))
  }

  const forget = (key: string): void => {
    seen.delete(key)
    writes.delete(key)
  }

  const unsubscribe = cache.subscribe((event: CacheEvent) => {
    switch (event.type) {
      case 'hit':
      case 'stale':
        // What the callers of this tab were given: the baseline of the next write. Only keys someone may watch.
        if (subscriptions.has(event.key) || matching.size > 0 || seen.has(event.key) || seen.size < remember) bounded(seen, event.key, event.entry)
        break
      case 'write':
        wrote(event.key, event.entry, false)
        break
      case 'delete':
      case 'expire':
        forget(event.key)
        break
      case 'invalidate': {
        const tags = new Set(event.tags.map((tag) => prefix + tag))
        for (const [key, entry] of seen) if (entry.tags?.some((tag) => tags.has(tag)) === true) forget(key)
        break
      }
    }
  })

  const channel = Channel === undefined ? undefined : new Channel(name)
  if (channel !== undefined) {
    channel.onmessage = (e: MessageEvent) => {
      const message = e.data as { tiercache?: unknown; ns?: unknown; op?: unknown; key?: unknown; entry?: unknown; tags?: unknown } | null
      if (typeof message !== 'object' || message === null || message.tiercache !== 1 || message.ns !== ns) return
      if (typeof message.key !== 'string' || !message.key.startsWith(prefix)) return
      const key = message.key.slice(prefix.length)
      if (message.op === 'write') {
        const entry = fromEnvelope(message.entry)
        if (entry !== undefined) wrote(key, entry, true)
      } else if (message.op === 'delete') forget(key)
    }
  }

  function onUpdate<V = unknown>(key: string | ((key: string) => boolean), listener: (update: CacheUpdate<V>) => void, options: OnUpdateOptions = {}): () => void {
    if (typeof key !== 'function' && (typeof key !== 'string' || key.length === 0)) {
      throw new TypeError(`key must be a non-empty string or a function of the key, got ${typeOf(key)}`)
    }
    if (typeof listener !== 'function') throw new TypeError(`listener must be a function, got ${typeOf(listener)}`)
    assertOptions(options, 'onUpdate(options)', true)
    const since = options.since
    if (since !== undefined && (typeof since !== 'number' || Number.isNaN(since))) throw new TypeError(`options.since must be a time in epoch ms, got ${typeOf(since)}`)
    const sub: Subscription = { listener: listener as (update: CacheUpdate) => void, unchanged: options.unchanged === true }
    if (typeof key === 'function') {
      sub.match = key
      matching.add(sub)
      if (since !== undefined) {
        const missed = [...writes].filter(([k, write]) => write.at > since && key(k))
        if (missed.length > 0) queueMicrotask(() => {
          for (const [k, write] of missed) if (matching.has(sub)) deliver(k, write, [sub])
        })
      }
      return () => {
        matching.delete(sub)
      }
    }
    let subs = subscriptions.get(key)
    if (subs === undefined) subscriptions.set(key, (subs = new Set()))
    subs.add(sub)
    const missed = since === undefined ? undefined : writes.get(key)
    if (missed !== undefined && missed.at > (since as number)) {
      queueMicrotask(() => {
        if (subscriptions.get(key)?.has(sub) === true) deliver(key, missed, [sub])
      })
    }
    return () => {
      const current = subscriptions.get(key)
      if (current === undefined) return
      current.delete(sub)
      if (current.size === 0) subscriptions.delete(key)
    }
  }

  const fetchKeysByPrefix = new Map<string, ReturnType<typeof fetchKeys>>()

  function onFetchUpdate(url: string | URL, listener: (update: FetchUpdate) => void, options: OnFetchUpdateOptions = {}): () => void {
    if (typeof listener !== 'function') throw new TypeError(`listener must be a function, got ${typeOf(listener)}`)
    assertOptions(options, 'onFetchUpdate(options)', true)
    const keyPrefix = optionalString(options.keyPrefix, 'options.keyPrefix') ?? 'fetch:'
    const cacheName = optionalString(options.cacheName, 'options.cacheName') ?? 'tiercache'
    const absolute = fetchUrl(url)
    let keys = fetchKeysByPrefix.get(keyPrefix)
    if (keys === undefined) fetchKeysByPrefix.set(keyPrefix, (keys = fetchKeys(keyPrefix, MAX_KEY - prefix.length)))
    const rest: OnUpdateOptions = { unchanged: options.unchanged === true }
    if (options.since !== undefined) rest.since = options.since
    return onUpdate(
      keys.baseKey(absolute),
      (update) => {
        const stored = update.value
        if (!isStoredResponse(stored) || stored.url !== absolute) return
        listener({
          url: absolute,
          status: stored.status,
          changed: update.changed,
          remote: update.remote,
          response: () => updateResponse(stored, now(), cacheName),
        })
      },
      rest,
    )
  }

  let closed = false
  return {
    onUpdate,
    onFetchUpdate,
    crossTab: channel !== undefined,
    close() {
      if (closed) return
      closed = true
      unsubscribe()
      subscriptions.clear()
      matching.clear()
      if (channel !== undefined) {
        channel.onmessage = null
        channel.close()
      }
    },
  }
}

/** What tells two values apart: a stored response's status and body, any other value's JSON, hashed. */
function fingerprint(entry: Entry): string {
  if (entry.negative === true) return 'null'
  const value = entry.value
  if (isStoredResponse(value)) return `${value.status} ${value.b64 ?? 0} ${hash(value.body)}`
  let json: string
  try {
    json = JSON.stringify(value) ?? 'undefined'
  } catch {
    // Not JSON (a cycle): never equal, so a write always counts as a change.
    return Math.random().toString(36)
  }
  return hash(json)
}

/** The URL as createCachedFetch keys it: absolute (against the page), without its fragment. */
function fetchUrl(url: string | URL): string {
  if (typeof url !== 'string' && !(url instanceof URL)) throw new TypeError(`url must be a string or a URL, got ${typeOf(url)}`)
  const base = (globalThis as { location?: { href?: string } }).location?.href
  return new URL(url, base).href.replace(/#.*$/, '')
}

function updateResponse(stored: StoredResponse, at: number, cacheName: string): Response {
  const status = formatCacheStatus({ hit: true, ttl: Math.floor((stored.freshUntil - at) / 1000), detail: 'update' }, cacheName)
  return toResponse(stored, { method: 'GET', now: at, age: true, cacheStatus: status })
}
