// packages/browser/README.md, "SWR".
import { broadcastInvalidation, indexedDbCoordinator, indexedDbStore } from '@tiercache/browser'
import { createSWRCache } from '@tiercache/browser/swr'
import { createCache, memoryStore } from '@tiercache/core'
import useSWR, { SWRConfig } from 'swr'

const cache = createCache({
  tiers: [memoryStore(), indexedDbStore({ dbName: 'my-app' })],
  coordinator: indexedDbCoordinator({ dbName: 'my-app' }),
})
broadcastInvalidation(cache, { channel: 'my-app' })

export const swrCache = createSWRCache({
  cache,
  policy: { ttl: '30s', swr: '1d' }, // fresh 30 s: no fetch; then stale for a day: shown at once, refreshed
  tags: (key) => (key.startsWith('/api/products') ? ['products'] : []),
  channel: 'my-app',
})

const fetcher = async (url: string): Promise<{ name: string }[]> => (await fetch(url)).json() as Promise<{ name: string }[]>

function Products() {
  const { data } = useSWR('/api/products', fetcher)
  return <ul>{data?.map((p) => <li key={p.name}>{p.name}</li>)}</ul>
}

export function App() {
  return (
    <SWRConfig value={swrCache.config}>
      <Products />
    </SWRConfig>
  )
}

export const refreshProducts = () => cache.invalidateTags(['products']) // every tab's hooks on /api/products refetch

export { cache, fetcher }
