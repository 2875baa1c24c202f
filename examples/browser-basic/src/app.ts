/**
 * The page's data layer: one cache (memory in front of IndexedDB), a cached fetch that follows the server's
 * caching headers, and cross-tab coherence. Nothing here touches the DOM, so the test runs it under Node.
 */
import { broadcastInvalidation, createCachedFetch, indexedDbCoordinator, indexedDbStore } from '@tiercache/browser'
import { createCache, memoryStore } from '@tiercache/core'

export interface AppOptions {
  /** Where relative URLs point. @default location.href */
  baseUrl?: string
  /** @default 'browser-basic' */
  dbName?: string
  /** The network. @default globalThis.fetch */
  fetch?: typeof fetch
}

export interface TimeResult {
  version: number
  time: string
  /** What tiercache did: e.g. 'tiercache; hit; ttl=4; detail=memory'. */
  cacheStatus: string | null
}

export function createApp(options: AppOptions = {}) {
  const dbName = options.dbName ?? 'browser-basic'
  // L1 in this tab's memory, L2 in IndexedDB (shared by the origin's tabs, survives reloads).
  const cache = createCache({
    tiers: [memoryStore({ maxEntries: 500 }), indexedDbStore({ dbName, maxEntries: 1_000, maxTtl: '1d' })],
    // Tag invalidation times in IndexedDB too (database `${dbName}-tags`): they hold after a reload.
    coordinator: indexedDbCoordinator({ dbName }),
  })
  // Fills, deletes and tag invalidations in this tab reach the memory tier of every other open tab.
  const sync = broadcastInvalidation(cache, { channel: 'browser-basic' })
  const cachedFetch = createCachedFetch({
    cache,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    // Only for responses that say nothing about caching; /api/time sends its own Cache-Control.
    policy: { ttl: '10s', tags: ['api'] },
  })
  const url = (path: string): string => new URL(path, options.baseUrl ?? location.href).href

  return {
    cache,
    async time(): Promise<TimeResult> {
      const res = await cachedFetch(url('/api/time'))
      const body = (await res.json()) as { version: number; time: string }
      return { ...body, cacheStatus: res.headers.get('cache-status') }
    },
    /** A POST: the server changes the data, and the cached GET of the URL is dropped here and in other tabs. */
    async bump(): Promise<void> {
      await cachedFetch(url('/api/time'), { method: 'POST' })
    },
    /** Drops every response stored under the policy's 'api' tag, in every tab, and for pages loaded later. */
    forgetAll: () => cache.invalidateTags(['api']),
    close: () => sync.close(),
  }
}
