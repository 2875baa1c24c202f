/**
 * `@tiercache/browser/swr`: an SWR cache provider whose data persists in a tiercache cache (IndexedDB), hydrated
 * without blocking the first render, written through in the background, invalidated by tags, and updated by
 * stale-then-fresh notifications from this tab and the others.
 */
import { namespacePrefix, type Cache as TierCache, type Policy } from '@tiercache/core'
import { unstable_serialize, type Cache, type Middleware, type ScopedMutator, type State } from 'swr'
import { assertOptions, optionalFunction, optionalString, typeOf } from '@tiercache/core/kit'
import { hash } from './fetch-keys.js'
import { cacheUpdates, type CacheUpdates } from './updates.js'

/**
 * Options of `createSWRCache`.
 *
 * @example
 * const options: SWRCacheOptions = { cache, policy: { ttl: '1m', swr: '1d' }, tags: (key) => (key.startsWith('/api/products') ? ['products'] : []) }
 */
export interface SWRCacheOptions {
  /** Where SWR's data persists: a cache whose tiers include `indexedDbStore()` (with `indexedDbCoordinator()` for tags). */
  cache: TierCache
  /**
   * Lifetimes of persisted data. Within `ttl` a fetch is answered from the cache without calling the fetcher;
   * within `swr` the stored data answers at once and the fetcher refreshes it in the background (the new data
   * reaches the hooks through `mutate`).
   * @default the cache's policy
   */
  policy?: Partial<Policy>
  /** tiercache tags of an SWR key (its serialized form): `cache.invalidateTags` revalidates the hooks on those keys. @default none */
  tags?: (key: string) => readonly string[]
  /** Prefix of the cache keys: `<prefix><SWR key>`. @default 'swr:' */
  prefix?: string
  /** The notifications that feed `mutate`; give yours to share its channel. @default cacheUpdates(cache, { channel }) */
  updates?: CacheUpdates
  /** The BroadcastChannel of `broadcastInvalidation` (when `updates` is not given). @default 'tiercache' */
  channel?: string
  /** Where failures to persist go. @default console.warn */
  onError?: (error: unknown) => void
}

/** What `createSWRCache` returns. */
export interface SWRCache {
  /** SWR's `provider` option: a new in-memory cache for the SWRConfig it is given to. */
  readonly provider: (parent: Cache) => Cache
  /** SWR middleware that runs fetchers through the tiercache cache (IndexedDB after a reload, no request). */
  readonly middleware: Middleware
  /** `{ provider, use: [middleware] }`, for `<SWRConfig value={swrCache.config}>`. */
  readonly config: { provider: (parent: Cache) => Cache; use: Middleware[] }
  /** Stops listening to invalidations and updates. */
  close(): void
}

/** Core's default longest key, namespace included. */
const MAX_KEY = 1024

/**
 * An SWR cache provider and middleware on a tiercache cache:
 *
 * - **Memory first**: SWR reads and writes an in-memory map (synchronous, as SWR needs), so nothing waits on
 *   IndexedDB during render.
 * - **Hydrated from IndexedDB without blocking the first render**: the middleware runs each fetcher through
 *   `cache.getOrSet`, so after a reload the first fetch of a key is answered from IndexedDB (no network request)
 *   within a few milliseconds of mounting; within `policy.swr` it answers at once and refreshes in the background.
 * - **Written through asynchronously**: data SWR stores otherwise (`mutate(key, data)`) is written to the cache in
 *   the background.
 * - **Invalidations**: `cache.invalidateTags(tags)`, in this tab or another, revalidates the mounted keys whose
 *   `options.tags` include one of them; their persisted data is dead already, so the fetcher runs.
 * - **Stale-then-fresh**: a background refresh or another tab's fetch that stored different data reaches the
 *   hooks through `mutate(key, data, { revalidate: false })`; an unchanged refresh re-renders nothing.
 *
 * @example
 * const swrCache = createSWRCache({ cache, policy: { ttl: '30s', swr: '1d' } })
 * // <SWRConfig value={swrCache.config}><App /></SWRConfig>
 */
export function createSWRCache(options: SWRCacheOptions): SWRCache {
  assertOptions(options, 'createSWRCache(options)', true)
  const cache = options?.cache
  if (typeof cache !== 'object' || cache === null || typeof cache.getOrSet !== 'function') {
    throw new TypeError(`options.cache must be a cache from createCache(), got ${typeOf(cache)}`)
  }
  cache.resolvePolicy(options.policy) // throws naming the rule
  const tagsOf = optionalFunction<(key: string) => readonly string[]>(options.tags, 'options.tags') ?? (() => [])
  const prefix = optionalString(options.prefix, 'options.prefix') ?? 'swr:'
  const onError = optionalFunction<(error: unknown) => void>(options.onError, 'options.onError') ?? warn
  const room = MAX_KEY - namespacePrefix(cache.namespace).length
  /** Cache keys shortened with a hash -> their SWR key. */
  const shortened = new Map<string, string>()
  const keyOf = (key: string): string => {
    const full = prefix + key
    if (full.length <= room) return full
    const short = `${full.slice(0, room - 16)}#${hash(full)}`
    shortened.set(short, key)
    return short
  }
  const policyOf = (key: string): Partial<Policy> => {
    const tags = tagsOf(key)
    return tags.length === 0 ? { ...options.policy } : { ...options.policy, tags: [...tags] }
  }
  /** SWR keys with a tiercache counterpart: not SWR's own ($inf$, $sub$, $ctx$ …), not empty. */
  const persistable = (key: string): boolean => key !== '' && !key.startsWith('$')

  /** The provider maps made (one per SWRConfig), and the mutate SWR bound to each. */
  const maps = new Map<Cache, ScopedMutator | undefined>()
  /** The data each key last had in the tiercache cache, by reference: not written back again. */
  const persisted = new Map<string, unknown>()
  /** Keys whose fetcher runs through getOrSet right now: their own write needs no mutate. */
  const fetching = new Set<string>()

  function write(key: string, data: unknown): void {
    persisted.set(key, data)
    cache.set(keyOf(key), data, policyOf(key)).catch(onError)
  }

  class ProviderMap implements Cache {
    readonly #map = new Map<string, State>()
    keys(): IterableIterator<string> {
      return this.#map.keys()
    }
    get(key: string): State | undefined {
      return this.#map.get(key)
    }
    set(key: string, state: State): void {
      this.#map.set(key, state)
      const data = state?.data
      // Fetched data is in the cache already (same reference); anything else SWR keeps (mutate) is written through.
      if (data !== undefined && persistable(key) && persisted.get(key) !== data) write(key, data)
    }
    delete(key: string): void {
      // SWR deletes on unload and for its internal keys: the persisted data stays until its policy or a tag ends it.
      this.#map.delete(key)
    }
  }

  const provider = (_parent: Cache): Cache => {
    const map = new ProviderMap()
    maps.set(map, undefined)
    return map
  }

  const middleware: Middleware = (useSWRNext) => (key, fetcher, config) => {
    const full = config as typeof config & { cache?: Cache; mutate?: ScopedMutator }
    // SWR merges the SWRConfig's bound mutate into every hook's config: the way to reach it from outside React.
    if (full.cache !== undefined && full.mutate !== undefined && maps.has(full.cache) && maps.get(full.cache) === undefined) {
      maps.set(full.cache, full.mutate)
    }
    if (fetcher === null) return useSWRNext(key, fetcher, config)
    const through = (...args: unknown[]): unknown => {
      const serialized = unstable_serialize(key)
      if (!persistable(serialized)) return (fetcher as (...args: unknown[]) => unknown)(...args)
      fetching.add(serialized)
      return cache
        .getOrSet(keyOf(serialized), () => (fetcher as (...args: unknown[]) => unknown)(...args), policyOf(serialized))
        .then((data) => {
          persisted.set(serialized, data)
          return data
        })
        .finally(() => fetching.delete(serialized))
    }
    return useSWRNext(key, through as typeof fetcher, config)
  }


  const stopInvalidations = cache.subscribe((event) => {
    if (event.type !== 'invalidate') return
    const invalidated = new Set(event.tags)
    for (const map of maps.keys()) {
      const mutate = maps.get(map)
      if (mutate === undefined) continue
      for (const key of [...map.keys()]) {
        if (persistable(key) && tagsOf(key).some((tag) => invalidated.has(tag))) void mutate(key).catch(onError)
      }
    }
  })

  const ownUpdates = options.updates === undefined
  const updates = options.updates ?? cacheUpdates(cache, options.channel === undefined ? {} : { channel: options.channel })
  const stopUpdates = updates.onUpdate(
    (cacheKey) => cacheKey.startsWith(prefix),
    (update) => {
      const key = shortened.get(update.key) ?? update.key.slice(prefix.length)
      // A fetch in this tab hands its data to SWR itself; data SWR wrote through is what it holds already.
      if (!update.remote && (fetching.has(key) || sameData(persisted.get(key), update.value))) return
      for (const [map, mutate] of maps) {
        // A key no hook of that SWRConfig holds is read when one mounts.
        if (mutate === undefined || map.get(key) === undefined) continue
        persisted.set(key, update.value)
        void mutate(key, update.value, { revalidate: false }).catch(onError)
      }
    },
  )

  const config = { provider, use: [middleware] }
  let closed = false
  return {
    provider,
    middleware,
    config,
    close() {
      if (closed) return
      closed = true
      stopInvalidations()
      stopUpdates()
      if (ownUpdates) updates.close()
    },
  }
}

function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true
  try {
    return JSON.stringify(a) === JSON.stringify(b)
  } catch {
    return false
  }
}

function warn(error: unknown): void {
  console.warn('tiercache SWR cache:', error)
}
