// packages/browser/README.md, "cacheUpdates".
import { broadcastInvalidation, cacheUpdates, createCachedFetch } from '@tiercache/browser'
import type { Cache } from '@tiercache/core'

interface User {
  name: string
}

export function watchUser(cache: Cache, render: (user: User | null) => void) {
  broadcastInvalidation(cache, { channel: 'my-app' }) // in every tab: carries each tab's writes to the others
  const updates = cacheUpdates(cache, { channel: 'my-app' })

  // Stale within swr: answered at once, refreshed in the background. Subscribe first: nothing is missed.
  const stop = updates.onUpdate<User>('user:1', ({ value, remote }) => {
    render(value) // the refreshed user, from this tab (remote: false) or another (remote: true)
    void remote
  })
  void cache.getOrSet('user:1', async (): Promise<User> => ({ name: 'Ada' }), { ttl: '1m', swr: '1h' }).then(render)
  return { updates, stop }
}

export async function watchProducts(cache: Cache, show: (products: unknown) => void) {
  const cachedFetch = createCachedFetch({ cache })
  const updates = cacheUpdates(cache)
  const since = Date.now() // subscribing after the read: `since` hands over what was stored meanwhile
  show(await (await cachedFetch('https://shop.example/api/products')).json())
  updates.onFetchUpdate('https://shop.example/api/products', async (update) => {
    if (update.changed) show(await update.response().json()) // a 304 or an identical body is not a change
  }, { since })
  return updates
}
