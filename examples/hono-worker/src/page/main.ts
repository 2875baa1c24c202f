import type { Tier } from './answered-by.js'
import {
  browserCache,
  edgeStats,
  getProduct,
  getProducts,
  productTag,
  setOriginDown,
  stampede,
  updateProduct,
  type Exchange,
  type Product,
} from './client.js'

const TIER_LABELS: Record<Tier, string> = {
  memory: 'memory',
  indexeddb: 'IndexedDB',
  browser: 'browser',
  'edge-l1': 'edge L1',
  'edge-l2': 'edge L2',
  origin: 'origin',
  error: 'error',
}
const QUICK_IDS = [1, 2, 3, 4, 5, 6, 999]
const LOG_ROWS = 40

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T

/** Builds an element: h('td', { class: 'num' }, '12'). */
function h(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value)
  el.append(...children)
  return el
}

function pill(exchange: Pick<Exchange<unknown>, 'tier' | 'stale'>): HTMLElement {
  const stale = exchange.stale === false ? '' : exchange.stale === 'swr' ? ' · stale, refreshing' : ' · stale-if-error'
  return h('span', { class: `pill ${exchange.tier}${exchange.stale === false ? '' : ' stale'}` }, TIER_LABELS[exchange.tier] + stale)
}

const money = (cents: number): string => `$${(cents / 100).toFixed(2)}`

// ------------------------------------------------------------------ request log

/** A row of the log; `answer` is what the "answered by" column shows (a tier pill for cached reads). */
function log(exchange: Exchange<unknown>, note = '', answer: Node | string = exchange.method === 'GET' ? pill(exchange) : '—'): void {
  const time = new Date().toLocaleTimeString([], { hour12: false })
  const request = h('td', { class: 'request' }, h('code', {}, `${exchange.method} ${exchange.path}`))
  if (note !== '') request.append(h('span', { class: 'note' }, note))
  const row = h(
    'tr',
    { title: exchange.cacheStatus === '' ? 'no Cache-Status' : `Cache-Status: ${exchange.cacheStatus}` },
    h('td', { class: 'time' }, time),
    request,
    h('td', {}, answer),
    h('td', { class: 'num' }, exchange.ms.toFixed(0)),
    h('td', { class: `num status s${String(exchange.status)[0]}` }, String(exchange.status)),
  )
  const body = $('log')
  body.prepend(row)
  while (body.children.length > LOG_ROWS) body.lastElementChild?.remove()
}

// ------------------------------------------------------------------ product

let current = 1

async function show(id: number, note = ''): Promise<void> {
  current = id
  $<HTMLInputElement>('product-id').value = String(id)
  $('update-tag').textContent = productTag(id)
  history.replaceState(null, '', `#${id}`)
  const exchange = await getProduct(id)
  log(exchange, note)
  const card = $('product')
  if ('error' in exchange.body) {
    card.replaceChildren(h('p', { class: 'missing' }, exchange.body.error), h('p', { class: 'meta' }, missingHint(exchange.status)))
  } else {
    const p = exchange.body
    card.replaceChildren(
      h('h3', {}, p.name, h('span', { class: 'id' }, `#${p.id}`)),
      h('p', { class: 'price', 'data-testid': 'price' }, money(p.price)),
      h('dl', {}, ...fact('stock', String(p.stock)), ...fact('version', String(p.version)), ...fact('updated', new Date(p.updatedAt).toLocaleTimeString([], { hour12: false }))),
    )
  }
  card.dataset.version = 'error' in exchange.body ? '' : String(exchange.body.version)
  card.dataset.tier = exchange.tier
  card.prepend(h('p', { class: 'answered' }, pill(exchange), h('span', {}, `${exchange.ms.toFixed(0)} ms`)))
  void refreshStats()
}

function fact(term: string, value: string): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, value)]
}

function missingHint(status: number): string {
  if (status === 404) return 'Not found is cached too (negativeTtl 10 s): load it again and the database is not asked.'
  if (status === 503) return 'The database is down and no stored copy is left to stand in for it.'
  return ''
}

// ------------------------------------------------------------------ stats

async function refreshStats(): Promise<void> {
  const edge = await edgeStats()
  const rows = [
    ...browserCache.stats().tiers.map((t) => ({ ...t, label: t.name === 'memory' ? 'memory' : 'IndexedDB', tier: t.name === 'memory' ? 'memory' : 'indexeddb' })),
    ...edge.cache.tiers.map((t, i) => ({ ...t, label: `edge L${i + 1}: ${t.name}`, tier: i === 0 ? 'edge-l1' : 'edge-l2' })),
  ]
  $('stats').replaceChildren(
    ...rows.map((t) =>
      h(
        'tr',
        {},
        h('td', {}, h('span', { class: `dot ${t.tier}` }), t.label),
        h('td', { class: 'num' }, String(t.hits)),
        h('td', { class: 'num' }, String(t.staleHits)),
        h('td', { class: 'num' }, String(t.misses)),
        h('td', { class: 'num' }, `${Math.round(t.hitRate * 100)}%`),
      ),
    ),
  )
  const l2 = edge.cache.tiers[1]?.name
  if (l2 !== undefined) $('l2-name').textContent = l2 === 'upstash' ? 'Upstash Redis' : `${l2} (no Upstash configured)`
  const keys = Object.keys(edge.origin.calls).length
  $('origin-stats').textContent =
    `Database: ${edge.origin.total} queries (${edge.origin.batches} of them batches) for ${keys} keys` +
    (keys === 0 ? '' : `, at most ${Math.max(...Object.values(edge.origin.calls))} for one key`)
  $<HTMLInputElement>('origin-down').checked = edge.origin.failing
  document.body.classList.toggle('origin-down', edge.origin.failing)
}

// ------------------------------------------------------------------ wiring

function busy(button: HTMLButtonElement, work: () => Promise<void>): void {
  button.disabled = true
  work()
    .catch((error: unknown) => console.error(error))
    .finally(() => {
      button.disabled = false
    })
}

function wire(): void {
  $('quick').append(
    ...QUICK_IDS.map((id) => {
      const button = h('button', { type: 'button', class: 'chip' }, id === 999 ? '999 (404)' : String(id)) as HTMLButtonElement
      button.addEventListener('click', () => void show(id))
      return button
    }),
  )
  $('picker').addEventListener('submit', (event) => {
    event.preventDefault()
    const id = Number($<HTMLInputElement>('product-id').value)
    if (Number.isInteger(id) && id > 0) void show(id)
  })
  const update = $<HTMLButtonElement>('update')
  update.addEventListener('click', () => busy(update, async () => log(await updateProduct(current))))
  const batch = $<HTMLButtonElement>('batch')
  batch.addEventListener('click', () =>
    busy(batch, async () => {
      const exchange = await getProducts([1, 2, 3, 4, 5, 6])
      const loaded = exchange.body.loadedFromOrigin ?? []
      log(exchange, loaded.length === 0 ? 'no database query' : `1 database query for ${loaded.length} ids`)
      await refreshStats()
    }),
  )
  const burst = $<HTMLButtonElement>('stampede')
  burst.addEventListener('click', () =>
    busy(burst, async () => {
      const id = 7 + Math.floor(Math.random() * 44)
      const result = await stampede(id)
      log(
        { method: 'GET', path: `/api/products/${id} ×50`, status: 200, ms: result.ms, body: null, cacheStatus: '', tier: 'origin', stale: false },
        `${result.ok} answered, no browser tier`,
        `${result.originCalls} database ${result.originCalls === 1 ? 'query' : 'queries'}`,
      )
      await refreshStats()
    }),
  )
  const down = $<HTMLInputElement>('origin-down')
  down.addEventListener('change', () => void setOriginDown(down.checked).then(log).then(refreshStats))
  $('refresh-stats').addEventListener('click', () => void refreshStats())

  // A tag invalidated here or in another tab (broadcastInvalidation) drops the shown product: show it again.
  browserCache.subscribe((event) => {
    if (event.type === 'invalidate' && event.tags?.includes(productTag(current))) void show(current, 'invalidated')
  })
}

declare global {
  interface Window {
    /** For the devtools console: `await tiercacheDemo.cache.stats()`, `tiercacheDemo.cache.invalidateTags(['product:1'])`. */
    tiercacheDemo: { cache: typeof browserCache; show: typeof show }
  }
}
window.tiercacheDemo = { cache: browserCache, show }

wire()
const initial = Number(location.hash.slice(1))
await show(Number.isInteger(initial) && initial > 0 ? initial : 1)
document.body.dataset.ready = 'true'
