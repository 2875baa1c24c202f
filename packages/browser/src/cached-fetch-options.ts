import type { Cache, Duration, Policy } from '@tiercache/core'

/**
 * Options of `createCachedFetch`.
 *
 * @example
 * const options: CachedFetchOptions = { cache, policy: { ttl: '30s', tags: ['api'] }, retain: '1h' }
 */
export interface CachedFetchOptions {
  /**
   * Where responses are kept. Pass the same `now` to it (and to its stores) as to this fetch when you inject a clock.
   * @default createCache({ tiers: [memoryStore(), indexedDbStore()], coordinator: indexedDbCoordinator() }) (memory only where IndexedDB does not exist)
   */
  cache?: Cache
  /**
   * Freshness for responses that state none (no max-age, no Expires, no no-cache): `ttl`, `swr`, `staleIfError`.
   * Its `tags` go on every stored response (for `cache.invalidateTags`). A function picks per request;
   * returning undefined sends that request straight to the network, uncached.
   * @default none: such responses are stored only to be revalidated (when they carry ETag or Last-Modified)
   */
  policy?: Policy | ((request: Request) => Policy | undefined)
  /** The fetch that reaches the network. @default globalThis.fetch */
  fetch?: typeof fetch
  /** Clock in epoch ms. @default Date.now */
  now?: () => number
  /** Prefix of every cache key this fetch writes. @default 'fetch:' */
  keyPrefix?: string
  /**
   * How long a response stays stored after it went stale, to be revalidated with its ETag / Last-Modified
   * (a 304 then refreshes it) and to answer while offline. Capped by each tier's maxTtl.
   * @default '1d'
   */
  retain?: Duration
  /** Larger bodies are passed through, not stored. @default 5 MiB */
  maxBodyBytes?: number
  /** This cache's name in the Cache-Status header (an RFC 8941 token). @default 'tiercache' */
  cacheName?: string
  /**
   * Other tabs: a request that finds another tab of the origin fetching the same URL (Web Locks) waits this long
   * for its stored answer before fetching itself; `0` turns this off (each tab fetches for itself, as where the
   * browser has no `navigator.locks`).
   * @default '5s'
   */
  lockWait?: Duration
}
