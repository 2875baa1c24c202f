/**
 * `@tiercache/browser/tanstack-query`: TanStack Query's per-query persister (`experimental_createQueryPersister`)
 * on a tiercache cache — each query its own IndexedDB entry, with tiercache's lifetimes, tags and quota handling —
 * and `connect(queryClient)`, which brings tag invalidations and the other tabs' results into the QueryClient.
 */
import { namespacePrefix, type Cache, type Policy } from '@tiercache/core'
import { experimental_createQueryPersister, type AsyncStorage, type PersistedQuery } from '@tanstack/query-persist-client-core'

// The public types below are structural, with no import from TanStack's packages: TanStack's declarations need the
// DOM lib (and a version of their own), and an app type-checks this subpath whichever it has.
import { assertOptions, optionalFunction, optionalString, typeOf } from '@tiercache/core/kit'
import { hash } from './fetch-keys.js'
import { cacheUpdates, type CacheUpdates } from './updates.js'

/** What the adapter uses of a Query: `@tanstack/query-core`'s Query fits. */
export interface QueryLike {
  readonly queryKey: readonly unknown[]
  readonly queryHash: string
  readonly state: { readonly data: unknown; readonly dataUpdatedAt: number }
}

/** What the adapter uses of a QueryClient: `@tanstack/query-core`'s (and react-query's) QueryClient fits. */
export interface QueryClientLike {
  getQueryCache(): { get(queryHash: string): QueryLike | undefined }
  setQueryData(queryKey: readonly unknown[], data: unknown, options?: { updatedAt?: number }): unknown
  invalidateQueries(filters: { predicate: (query: QueryLike) => boolean }): Promise<void>
}

/**
 * Options of `createQueryPersister`.
 *
 * @example
 * const options: QueryPersisterOptions = { cache, policy: { ttl: '1d' }, tags: (queryKey) => [String(queryKey[0])] }
 */
export interface QueryPersisterOptions {
  /** Where queries persist: a cache whose tiers include `indexedDbStore()` (with `indexedDbCoordinator()` for tags). */
  cache: Cache
  /**
   * How long a persisted query is kept (`ttl`, plus `swr` / `staleIfError`: it is restored while servable). TanStack's
   * own `staleTime` still decides whether a restored query refetches.
   * @default the cache's policy
   */
  policy?: Partial<Policy>
  /** The tiercache tags of a query, from its key: `cache.invalidateTags` then reaches it, persisted or in memory. @default none */
  tags?: (queryKey: readonly unknown[]) => readonly string[]
  /** Persisted entries with another buster are dropped (TanStack's `buster`). @default '' */
  buster?: string
  /** Prefix of the storage keys (TanStack's `prefix`); the cache keys are `tq:<prefix>-<queryHash>`. @default 'tanstack-query' */
  prefix?: string
  /** TanStack's `refetchOnRestore`: refetch a restored query when it is stale (`true`), always, or never. @default true */
  refetchOnRestore?: boolean | 'always'
  /** The notifications `connect` listens to; give yours to share its channel. @default cacheUpdates(cache, { channel }) */
  updates?: CacheUpdates
  /** The BroadcastChannel of `broadcastInvalidation` (when `updates` is not given). @default 'tiercache' */
  channel?: string
  /** Where failures to persist go (never thrown into TanStack's scheduler). @default console.warn */
  onError?: (error: unknown) => void
}

/** A query as the persister stores it (TanStack's `PersistedQuery`, its state cleared of errors). */
export interface PersistedQueryLike {
  buster: string
  queryHash: string
  queryKey: readonly unknown[]
  state: { readonly data?: unknown; readonly dataUpdatedAt: number }
}

/** The storage the persister runs on: one cache entry per query. */
export interface QueryStorage {
  getItem(storageKey: string): Promise<PersistedQueryLike | undefined>
  setItem(storageKey: string, query: PersistedQueryLike): Promise<void>
  removeItem(storageKey: string): Promise<void>
}

/** What `createQueryPersister` returns: TanStack's per-query persister, its storage, and `connect`. */
export interface QueryPersister {
  /** The `persister` option of a query (or of `defaultOptions.queries`): restores, then persists each result. */
  persisterFn<T>(queryFn: (context: never) => T | Promise<T>, context: unknown, query: unknown): Promise<T>
  /** Persists a query now (a `Query` of the QueryClient). */
  persistQuery(query: unknown): Promise<void>
  /** The persisted data of a query hash, if any. */
  retrieveQuery<T>(queryHash: string): Promise<T | undefined>
  /** The storage given to `experimental_createQueryPersister` (one cache entry per query). */
  readonly storage: QueryStorage
  /**
   * Keeps `queryClient` in step: `cache.invalidateTags` (in any tab) invalidates its queries carrying the tags
   * (refetching the active ones), and a query result persisted by another tab replaces the data of the same query
   * here when it is newer and different. Returns the function that stops it.
   */
  connect(queryClient: QueryClientLike): () => void
  /** Stops every connection and, when `createQueryPersister` made them, its notifications. */
  close(): void
}

/** Core's default longest key, namespace included. */
const MAX_KEY = 1024

/**
 * A TanStack Query persister that keeps each query in its own tiercache entry (IndexedDB, LRU-bounded, quota
 * handled): a page restores only the queries it mounts, never a whole-cache snapshot, so reload time does not grow
 * with the number of persisted queries. Entries carry tags from `options.tags`, so `cache.invalidateTags` kills
 * persisted queries that are not even loaded yet, and (through `connect`) invalidates the loaded ones.
 *
 * @example
 * const persister = createQueryPersister({ cache, policy: { ttl: '1d' }, tags: (key) => [String(key[0])] })
 * const queryClient = new QueryClient({ defaultOptions: { queries: { persister: persister.persisterFn, staleTime: 60_000 } } })
 * persister.connect(queryClient)
 */
export function createQueryPersister(options: QueryPersisterOptions): QueryPersister {
  assertOptions(options, 'createQueryPersister(options)', true)
  const cache = options?.cache
  if (typeof cache !== 'object' || cache === null || typeof cache.getOrSet !== 'function') {
    throw new TypeError(`options.cache must be a cache from createCache(), got ${typeOf(cache)}`)
  }
  const base = cache.resolvePolicy(options.policy) // throws naming the rule
  const tagsOf = optionalFunction<(queryKey: readonly unknown[]) => readonly string[]>(options.tags, 'options.tags') ?? (() => [])
  const buster = options.buster === undefined ? '' : String(options.buster)
  const prefix = optionalString(options.prefix, 'options.prefix') ?? 'tanstack-query'
  const onError = optionalFunction<(error: unknown) => void>(options.onError, 'options.onError') ?? warn
  const room = MAX_KEY - namespacePrefix(cache.namespace).length
  const keyOf = (storageKey: string): string => {
    const key = `tq:${storageKey}`
    return key.length <= room ? key : `${key.slice(0, room - 16)}#${hash(key)}`
  }
  const storageKeyOf = (queryHash: string): string => `${prefix}-${queryHash}`
  const policyOf = (queryKey: readonly unknown[]): Partial<Policy> => {
    const tags = tagsOf(queryKey)
    return tags.length === 0 ? { ...options.policy } : { ...options.policy, tags: [...tags] }
  }

  const storage: QueryStorage & AsyncStorage<PersistedQuery> = {
    async getItem(storageKey: string) {
      try {
        const value = await cache.get<PersistedQuery>(keyOf(storageKey))
        return isPersistedQuery(value) ? value : undefined
      } catch (error) {
        onError(error)
        return undefined
      }
    },
    async setItem(storageKey: string, query: PersistedQueryLike) {
      try {
        await cache.set(keyOf(storageKey), storable(query), policyOf(query.queryKey))
      } catch (error) {
        // A value that is not JSON, say: the query still works, it just is not persisted.
        onError(error)
      }
    },
    async removeItem(storageKey: string) {
      try {
        await cache.delete(keyOf(storageKey))
      } catch (error) {
        onError(error)
      }
    },
  }
  const identity = <T>(value: T): T => value
  const persister = experimental_createQueryPersister<PersistedQuery>({
    storage,
    serialize: identity,
    deserialize: identity,
    buster,
    prefix,
    // tiercache's policy decides how long an entry lives; TanStack would otherwise drop it after a day.
    maxAge: Math.max(1, base.ttl + Math.max(base.swr, base.staleIfError)),
    ...(options.refetchOnRestore === undefined ? {} : { refetchOnRestore: options.refetchOnRestore }),
  })

  const ownUpdates = options.updates === undefined
  const updates = options.updates ?? cacheUpdates(cache, options.channel === undefined ? {} : { channel: options.channel })
  const connections = new Set<() => void>()
  const tagPrefix = `tq:${prefix}-`

  function connect(queryClient: QueryClientLike): () => void {
    if (typeof queryClient !== 'object' || queryClient === null || typeof queryClient.getQueryCache !== 'function') {
      throw new TypeError(`connect(queryClient) needs a QueryClient, got ${typeOf(queryClient)}`)
    }
    const stopInvalidations = cache.subscribe((event) => {
      if (event.type !== 'invalidate') return
      const invalidated = new Set(event.tags)
      void queryClient
        .invalidateQueries({ predicate: (query) => tagsOf(query.queryKey).some((tag) => invalidated.has(tag)) })
        .catch(onError)
    })
    const stopUpdates = updates.onUpdate(
      (key) => key.startsWith(tagPrefix),
      (update) => {
        const persisted = update.value
        // This tab's own results are in its QueryClient already.
        if (!update.remote || !isPersistedQuery(persisted) || persisted.buster !== buster) return
        const query = queryClient.getQueryCache().get(persisted.queryHash)
        // Only queries this tab has: the others restore from IndexedDB when they mount.
        if (query === undefined || query.state.dataUpdatedAt >= persisted.state.dataUpdatedAt) return
        if (sameData(query.state.data, persisted.state.data)) return
        queryClient.setQueryData(persisted.queryKey, persisted.state.data, { updatedAt: persisted.state.dataUpdatedAt })
      },
      { unchanged: true },
    )
    const stop = (): void => {
      stopInvalidations()
      stopUpdates()
      connections.delete(stop)
    }
    connections.add(stop)
    return stop
  }

  return {
    persisterFn: persister.persisterFn as QueryPersister['persisterFn'],
    persistQuery: persister.persistQuery as QueryPersister['persistQuery'],
    retrieveQuery: (queryHash) => persister.retrieveQuery(queryHash),
    storage,
    connect,
    close() {
      for (const stop of [...connections]) stop()
      if (ownUpdates) updates.close()
    },
  }

  function storable(query: PersistedQueryLike): PersistedQueryLike {
    // Errors are not JSON, and a restored query must not come back fetching or failed.
    const state = { ...query.state, error: null, fetchFailureReason: null, fetchFailureCount: 0, fetchStatus: 'idle' as const }
    return { buster: query.buster, queryHash: query.queryHash, queryKey: query.queryKey, state }
  }
}

function isPersistedQuery(value: unknown): value is PersistedQuery & PersistedQueryLike {
  if (typeof value !== 'object' || value === null) return false
  const q = value as Partial<PersistedQueryLike>
  return typeof q.queryHash === 'string' && Array.isArray(q.queryKey) && typeof q.state === 'object' && q.state !== null
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
  console.warn('tiercache query persister:', error)
}
