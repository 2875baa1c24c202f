import type { Cache, Loader, Policy } from '@tiercache/core'

/** How one cache call was answered, for the Cache-Status header. */
export interface Answer<V> {
  value: V | null
  /** Name of the store that answered, or 'origin' when the loader ran for this call. */
  tier: string
  /** Served past its fresh lifetime: within stale-while-revalidate, or because the origin failed. */
  stale: 'swr' | 'error' | false
}

/**
 * cache.getOrSet, also telling which tier answered, from the cache's events for this key.
 * Concurrent calls for one key may see each other's events; good enough for a demo header.
 */
export async function getOrSetWithTier<V>(cache: Cache, key: string, loader: Loader<V>, policy?: Partial<Policy>): Promise<Answer<V>> {
  const seen: { tier?: string | undefined; stale: Answer<V>['stale'] } = { stale: false }
  const stop = cache.subscribe((event) => {
    if (event.key !== key) return
    if (event.type === 'hit') seen.tier ??= event.tier
    else if (event.type === 'stale') {
      seen.tier ??= event.tier
      seen.stale = event.reason === 'error' ? 'error' : 'swr'
    } else if (event.type === 'load' && event.background !== true) seen.tier = 'origin'
  })
  try {
    const value = await cache.getOrSet(key, loader, policy)
    // A stale-if-error event names no tier: the stale entry kept for a failed load answered.
    return { value, tier: seen.tier ?? (seen.stale === 'error' ? 'cache' : 'origin'), stale: seen.stale }
  } finally {
    stop()
  }
}
