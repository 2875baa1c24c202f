// packages/core/README.md, "Events and stats".
import { createCache, memoryStore, type CacheEvent } from '@tiercache/core'

export function observedCache(log: (line: string) => void) {
  const cache = createCache({
    tiers: [memoryStore()],
    policy: { ttl: '1m' },
    onEvent: (event: CacheEvent) => {
      if (event.type === 'error') log(`${event.tier ?? 'loader'} failed for ${event.key}: ${event.error?.code}`)
      if (event.type === 'load') log(`loaded ${event.key} in ${event.ms} ms`)
    },
  })
  const stop = cache.subscribe((event) => event.type === 'evict' && log(`evicted ${event.key}`))
  return { cache, stop, stats: () => cache.stats() } // stats(): hits, misses, staleHits, loads, hitRate, tiers[]
}
