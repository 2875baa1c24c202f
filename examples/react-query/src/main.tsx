// examples/react-query: the page. `?count=N` products are shown (default 6); each is a query persisted on its own.
import { namespacePrefix } from '@tiercache/core'
import { createEntry } from '@tiercache/core/store'
import { CacheProvider } from '@tiercache/browser/react'
import { QueryClientProvider, useQuery } from '@tanstack/react-query'
import { createRoot } from 'react-dom/client'
import { setup } from './cache.js'
import { Greeting, Notice } from './notice.js'

interface Product {
  id: number
  name: string
  version: number
}

const params = new URLSearchParams(location.search)
const count = Number(params.get('count') ?? 6)
const dbName = params.get('db') ?? undefined
const { cache, idb, queryClient, cachedFetch } = setup(dbName)

/** Long tasks of the main thread since the page started (a reload's blocking time). */
const longTasks: number[] = []
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) longTasks.push(entry.duration)
}).observe({ type: 'longtask', buffered: true })

let storageReads = 0
cache.subscribe((event) => {
  if ((event.type === 'hit' || event.type === 'miss') && event.tierIndex === 1) storageReads++
})

function ProductCard({ id }: { id: number }) {
  const { data, status } = useQuery({
    queryKey: ['products', id],
    queryFn: async (): Promise<Product> => (await fetch(`/api/products?id=${id}`)).json() as Promise<Product>,
  })
  return <li>{status === 'success' ? `${data.name} v${data.version}` : status}</li>
}

function App() {
  return (
    <>
      <Greeting name="tiercache" />
      <Notice />
      <button type="button" onClick={() => void cache.invalidateTags(['products'])}>
        invalidateTags(['products'])
      </button>
      <ul>
        {Array.from({ length: count }, (_, id) => (
          <ProductCard key={id} id={id} />
        ))}
      </ul>
    </>
  )
}

/** What the test (and a curious reader in devtools) can ask the page. */
const demo = {
  shown: () => [...document.querySelectorAll('li')].map((li) => li.textContent ?? ''),
  text: (id: string) => document.getElementById(id)?.textContent ?? null,
  invalidate: () => cache.invalidateTags(['products']),
  storageReads: () => storageReads,
  longTasks: () => ({ count: longTasks.length, longest: Math.max(0, ...longTasks), blocking: longTasks.reduce((sum, d) => sum + Math.max(0, d - 50), 0) }),
  /**
   * How many of products 0..n-1 are in IndexedDB, at `version` when given (the persister writes after a query
   * settles: wait for it before a reload).
   */
  async persisted(n: number, version?: number): Promise<number> {
    const prefix = namespacePrefix(cache.namespace)
    const keys = Array.from({ length: n }, (_, id) => `${prefix}tq:tanstack-query-${JSON.stringify(['products', id])}`)
    const entries = await idb.getMany(keys)
    const at = (entry: (typeof entries)[number]) => (entry?.value as { state?: { data?: Partial<Product> } } | undefined)?.state?.data?.version
    return entries.filter((entry) => entry !== undefined && (version === undefined || at(entry) === version)).length
  },
  /** Persists `n` more product queries (ids from 10,000 up: none is shown), as a long-used app would have them. */
  async persistMany(n: number): Promise<void> {
    const prefix = namespacePrefix(cache.namespace)
    const policy = cache.resolvePolicy({ ttl: '1d', tags: ['products'] })
    const now = Date.now()
    for (let at = 0; at < n; at += 500) {
      const batch = Array.from({ length: Math.min(500, n - at) }, (_, i) => {
        const queryKey = ['products', 10_000 + at + i]
        const queryHash = JSON.stringify(queryKey)
        const state = { data: { id: 10_000 + at + i, name: 'stored', version: 1 }, dataUpdatedAt: now, status: 'success' }
        return [`${prefix}tq:tanstack-query-${queryHash}`, createEntry({ buster: '', queryHash, queryKey, state }, policy, now, 1, Math.random)] as const
      })
      await idb.setMany(batch)
    }
  },
}

declare global {
  interface Window {
    demo: typeof demo
    __ready?: boolean
  }
}
window.demo = demo

const root = document.getElementById('root') ?? document.body.appendChild(document.createElement('div'))
createRoot(root).render(
  <CacheProvider cache={cache} fetch={cachedFetch} {...(dbName === undefined ? {} : { channel: dbName })}>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </CacheProvider>,
)
window.__ready = true
