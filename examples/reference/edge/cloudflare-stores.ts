// packages/edge/README.md, "The stores and the coordinator": Workers KV and the Durable Object, built by hand.
import { createCache } from '@tiercache/core'
import { cacheApiStore, durableObjectCoordinator, kvStore } from '@tiercache/edge'

export interface Env {
  TIERCACHE_KV: KVNamespace
  TIERCACHE: DurableObjectNamespace
}

export function createCloudflareCache(env: Env) {
  const coordinator = durableObjectCoordinator({ namespace: env.TIERCACHE, tagCacheTtl: '5s' })
  const l2 = kvStore({ namespace: env.TIERCACHE_KV, maxTtl: coordinator.tagTtl, coordinator })
  const cache = createCache({ tiers: [cacheApiStore(), l2], coordinator, policy: { ttl: '5m' } })
  return cache
}
