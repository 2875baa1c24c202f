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
