import { broadcastInvalidation, createCachedFetch, indexedDbCoordinator, indexedDbStore } from '@tiercache/browser'
import { createCache, memoryStore, type CacheStats } from '@tiercache/core'
import type { OriginStats, Product } from '../origin.js'
import { answeredBy, BROWSER_CACHE_NAME, type AnsweredBy } from './answered-by.js'

/**
 * The page's own tiers: memory (this tab) over IndexedDB (every tab of the origin, kept across reloads). Tag
 * invalidation times are kept in IndexedDB too (database 'tiercache-demo-tags'): a product changed before a
 * reload is not answered from IndexedDB after it.
 */
export const browserCache = createCache({
  tiers: [memoryStore({ maxEntries: 200 }), indexedDbStore({ dbName: 'tiercache-demo' })],
  coordinator: indexedDbCoordinator({ dbName: 'tiercache-demo' }),
  namespace: 'demo',
})

// Writes, deletes and tag invalidations in one tab reach the memory tier of every other tab.
broadcastInvalidation(browserCache, { channel: 'tiercache-demo' })

/** The browser tag of a product: the same name the Worker tags its entries with. */
export const productTag = (id: number): string => `product:${id}`

/** Tags a stored API response with the products it holds, so that invalidateTags reaches it. */
function tagsOf(url: URL): string[] {
  const single = /^\/api\/products\/(\d+)$/.exec(url.pathname)
  if (single !== null) return [productTag(Number(single[1]))]
  return (url.searchParams.get('ids') ?? '').split(',').filter(Boolean).map((id) => productTag(Number(id)))
}

/** fetch through the browser tiers; follows the Worker's Cache-Control and reports the tier in Cache-Status. */
const cachedFetch = createCachedFetch({
  cache: browserCache,
  cacheName: BROWSER_CACHE_NAME,
  // Lifetimes come from the Worker's Cache-Control; this policy only adds the tags (its ttl applies to silent responses).
  policy: (request) => ({ ttl: '10s', tags: tagsOf(new URL(request.url)) }),
})

/** One request as the page shows it. */
export interface Exchange<T> extends AnsweredBy {
  method: string
  path: string
  status: number
  ms: number
  body: T
  cacheStatus: string
  /** Seconds the response stays fresh (Cache-Control max-age minus Age); negative: stale for that long. */
  freshFor: number | undefined
}

function freshFor(headers: Headers): number | undefined {
  const maxAge = /max-age=(\d+)/.exec(headers.get('cache-control') ?? '')?.[1]
  return maxAge === undefined ? undefined : Number(maxAge) - Number(headers.get('age') ?? 0)
}

async function send<T>(method: string, path: string, init?: RequestInit): Promise<Exchange<T>> {
  const started = performance.now()
  // GETs go through the browser tiers; writes and the control endpoints go straight to the Worker.
  const response = method === 'GET' ? await cachedFetch(path, init) : await fetch(path, { method, ...init })
  const body = (await response.json()) as T
  const ms = performance.now() - started
  const cacheStatus = response.headers.get('cache-status') ?? ''
  return { method, path, status: response.status, ms, body, cacheStatus, freshFor: freshFor(response.headers), ...answeredBy(response.status, cacheStatus) }
}

/** A product through the browser tiers; `skipBrowser` asks the Worker (cache mode 'reload') and stores its answer. */
export const getProduct = (id: number, skipBrowser = false) =>
  send<Product | { error: string }>('GET', `/api/products/${id}`, skipBrowser ? { cache: 'reload' } : undefined)

export const getProducts = (ids: readonly number[]) =>
  send<{ products: (Product | null)[]; loadedFromOrigin: string[] }>('GET', `/api/products?ids=${ids.join(',')}`)

/** Changes the price in the database; the Worker invalidates the product's tag, then so does this tab (and so every tab). */
export async function updateProduct(id: number): Promise<Exchange<Product | { error: string }>> {
  const exchange = await send<Product | { error: string }>('POST', `/api/products/${id}`, {
    headers: { 'content-type': 'application/json' },
    body: '{}',
  })
  if (exchange.status === 200) await browserCache.invalidateTags([productTag(id)])
  return exchange
}

export const setOriginDown = (failing: boolean) =>
  send<{ failing: boolean }>('POST', '/api/origin/fail', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ failing }) })

/** What GET /api/stats answers. */
export interface EdgeStats {
  cache: CacheStats
  origin: OriginStats
  /** The L2 and coordinator createEdgeCache picked from the Worker's bindings (or --l2 / --coordinator). */
  tiers: { l2: 'memory' | 'kv' | 'upstash'; coordinator: 'local' | 'durable-object' | 'upstash'; summary: string }
}

export async function edgeStats(): Promise<EdgeStats> {
  const response = await fetch('/api/stats', { cache: 'no-store' })
  return (await response.json()) as EdgeStats
}

/** `count` concurrent requests for one product, past the browser tiers: how many reached the origin? */
export async function stampede(id: number, count = 50): Promise<{ ms: number; ok: number; originCalls: number }> {
  const started = performance.now()
  const responses = await Promise.all(Array.from({ length: count }, () => fetch(`/api/products/${id}`, { cache: 'no-store' })))
  const ms = performance.now() - started
  const stats = await edgeStats()
  return { ms, ok: responses.filter((r) => r.ok).length, originCalls: stats.origin.calls[productTag(id)] ?? 0 }
}

/** One line of POST /api/warm: progress after each product, then the result (`finished`). */
export interface WarmLine {
  total: number
  done: number
  loaded: number
  fresh: number
  skipped: number
  failed: number
  finished?: true
}

/** Asks the Worker to warm its top products, calling `onLine` with each progress line it streams back. */
export async function warmTopProducts(onLine: (line: WarmLine) => void): Promise<{ ms: number; last: WarmLine | undefined }> {
  const started = performance.now()
  const response = await fetch('/api/warm', { method: 'POST' })
  const reader = (response.body ?? new ReadableStream<Uint8Array>()).getReader()
  const decoder = new TextDecoder()
  let buffered = ''
  let last: WarmLine | undefined
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    buffered += decoder.decode(value, { stream: true })
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const text of lines) {
      if (text === '') continue
      last = JSON.parse(text) as WarmLine
      onLine(last)
    }
  }
  return { ms: performance.now() - started, last }
}

/** How one request past the browser tiers was answered, after a price change. */
export interface Probe extends AnsweredBy {
  ms: number
  status: number
  cacheStatus: string
  /** The price it carried. */
  price: number | undefined
}

/** The product straight from the Worker, without reading or filling the browser tiers. */
async function probe(id: number): Promise<Probe> {
  const started = performance.now()
  const response = await fetch(`/api/products/${id}`, { cache: 'no-store' })
  const body = (await response.json()) as Partial<Product>
  const cacheStatus = response.headers.get('cache-status') ?? ''
  return { ms: performance.now() - started, status: response.status, cacheStatus, price: body.price, ...answeredBy(response.status, cacheStatus) }
}

/** What followed a price change invalidated softly or hardly. */
export interface InvalidationOutcome {
  mode: 'soft' | 'hard'
  /** The price before and after the change. */
  oldPrice: number | undefined
  newPrice: number | undefined
  change: Exchange<Product | { error: string }>
  /** `count` concurrent requests sent right after the invalidation, past the browser tiers. */
  probes: Probe[]
  /** Database queries for the product from the change until its new price was stored at the edge. */
  queries: number
  /** A request once that load was done. */
  next: Probe
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Changes the product's price, invalidating its tag at the edge with `mode`, then sends `count` concurrent requests
 * past the browser tiers to show what each mode does: soft, they are answered at once with the old, now stale copy
 * while one load runs in the background; hard, they wait for one database query and get the new price. Then the tab's
 * own tiers are invalidated the same way (and, by broadcastInvalidation, every tab's).
 */
export async function changePriceAndWatch(id: number, mode: 'soft' | 'hard', count = 5): Promise<InvalidationOutcome> {
  // The edge must hold a copy for a soft invalidation to have something stale to serve.
  const before = await probe(id)
  const queriesBefore = (await edgeStats()).origin.calls[productTag(id)] ?? 0
  const change = await send<Product | { error: string }>('POST', `/api/products/${id}/price`, {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mode }),
  })
  const newPrice = 'price' in change.body ? change.body.price : undefined
  const probes = await Promise.all(Array.from({ length: count }, () => probe(id)))
  // Soft: the load runs in the background; wait (up to 10 s) until the new price is stored at the edge.
  let next = await probe(id)
  for (let waited = 0; next.price !== newPrice && waited < 10_000; waited += 100) {
    await sleep(100)
    next = await probe(id)
  }
  const queries = ((await edgeStats()).origin.calls[productTag(id)] ?? 0) - queriesBefore
  if (change.status === 200) await browserCache.invalidateTags([productTag(id)], { mode })
  return { mode, oldPrice: before.price, newPrice, change, probes, queries, next }
}
