/**
 * An SWR page on createSWRCache: `count` items (`/api/item?id=N`), each through useSWR with a plain fetch as the
 * fetcher, persisted in IndexedDB, tagged 'items'. Query parameters pick the database (and channel) and how many
 * items show; `seed` persists that many more entries first (for the 5,000-entries reload).
 */
import { createCache, memoryStore } from '@tiercache/core'
import { createRoot } from 'react-dom/client'
import useSWR, { SWRConfig } from 'swr'
import { broadcastInvalidation, indexedDbCoordinator, indexedDbStore } from '../../../src/index.js'
import { createSWRCache } from '../../../src/swr.js'
import { longTasks, seed } from './seed.js'

const tasks = longTasks()
const params = new URLSearchParams(location.search)
const dbName = params.get('db') ?? 'swr'
const count = Number(params.get('count') ?? 3)
const idb = indexedDbStore({ dbName, maxEntries: 20_000 })
const cache = createCache({
  tiers: [memoryStore(), idb],
  coordinator: indexedDbCoordinator({ dbName }),
  policy: { ttl: '1m', swr: '1h' },
  // Generous (core's default is 1 s): a IndexedDB read or write in a loaded Chromium on a shared CI machine can take
  // longer, which turns into an 'error' event and a miss that changes what the tests count. No test here is about a tier
  // timing out.
  tierTimeout: '30s',
})
broadcastInvalidation(cache, { channel: dbName })
let reads = 0
cache.subscribe((e) => {
  if ((e.type === 'hit' || e.type === 'miss') && e.tierIndex === 1) reads++
})
const swrCache = createSWRCache({ cache, channel: dbName, tags: (key) => (key.startsWith('/api/item') ? ['items'] : []) })
const urlOf = (id: number): string => `/api/item?id=${id}&db=${dbName}`

let renders = 0
const fetcher = (url: string): Promise<{ id: number; version: number }> => fetch(url, { cache: 'no-store' }).then((r) => r.json() as Promise<{ id: number; version: number }>)

function Item({ id }: { id: number }) {
  const { data } = useSWR<{ id: number; version: number }>(urlOf(id), fetcher)
  renders++
  return <li>{data === undefined ? 'loading' : `${data.id}:${data.version}`}</li>
}

function App() {
  return <ul>{Array.from({ length: count }, (_, id) => <Item key={id} id={id} />)}</ul>
}

const swrApp = {
  shown: () => [...document.querySelectorAll('li')].map((li) => li.textContent ?? ''),
  renders: () => renders,
  /** Entries read from IndexedDB (hits and misses of tier 1) since the page started. */
  reads: () => reads,
  /** Entries IndexedDB holds now (committed writes): the adapter's writes run in the background. */
  stored: () => idb.count(),
  invalidate: (tags: string[]) => cache.invalidateTags(tags),
  /** Persists `n` items as a long-used app would have them (ids from 1000 up, so none is shown). */
  seed: (n: number) => seed(cache, idb, Array.from({ length: n }, (_, i) => [`swr:${urlOf(1000 + i)}`, { id: 1000 + i, version: 1 }, ['items']] as const)),
  longTasks: tasks,
}

declare global {
  interface Window {
    swrApp: typeof swrApp
  }
}
window.swrApp = swrApp
const root = document.createElement('div')
document.body.append(root)
createRoot(root).render(
  <SWRConfig value={{ ...swrCache.config, revalidateOnFocus: false, dedupingInterval: 0 }}>
    <App />
  </SWRConfig>,
)
window.__ready = true
