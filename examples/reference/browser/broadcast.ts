// packages/browser/README.md, "broadcastInvalidation".
import { broadcastInvalidation } from '@tiercache/browser'
import type { Cache } from '@tiercache/core'

export async function syncTabs(cache: Cache) {
  const sync = broadcastInvalidation(cache, { channel: 'my-app' }) // default channel 'tiercache'
  await cache.delete('cart')              // gone from every open tab's memory tier
  await cache.invalidateTags(['catalog']) // every open tab stops serving 'catalog' entries, in every tier
  sync.close()                            // unsubscribe and close the channel
  return sync
}
