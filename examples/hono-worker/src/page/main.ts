import type { AnsweredBy, Tier } from './answered-by.js'
import {
  browserCache,
  changePriceAndWatch,
  edgeStats,
  getProduct,
  getProducts,
  productTag,
  setOriginDown,
  stampede,
  updateProduct,
  warmTopProducts,
  type EdgeStats,
  type Exchange,
} from './client.js'

const TIER_LABELS: Record<Tier, string> = {
  memory: 'memory',
  indexeddb: 'IndexedDB',
  browser: 'browser',
  'edge-l1': 'edge L1',
  'edge-l2': 'edge L2',
  edge: 'edge',
  origin: 'origin',
  error: 'error',
}
const QUICK_IDS = [1, 2, 3, 4, 5, 6, 999]
const BATCH_IDS = [1, 2, 3, 4, 5, 6]
const LOG_ROWS = 40

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T

/** Builds an element: h('td', { class: 'num' }, '12'). */
function h(tag: string, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElement {
  const el = document.createElement(tag)
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value)
  el.append(...children)
  return el
}

function pill({ tier, stale }: AnsweredBy): HTMLElement {
  const suffix = stale === 'swr' ? ' · stale, refreshing' : stale === 'error' ? ' · stale-if-error' : ''
  return h('span', { class: `pill ${tier}${stale === false ? '' : ' stale'}` }, TIER_LABELS[tier] + suffix)
}

const money = (cents: number): string => `$${(cents / 100).toFixed(2)}`
const isBrowserTier = (tier: Tier): boolean => tier === 'memory' || tier === 'indexeddb' || tier === 'browser'

// ------------------------------------------------------------------ request log

/** Adds a row to the log: the request, what answered it, how long it took. */
function log(exchange: Exchange<unknown>, options: { note?: string; answer?: Node | string } = {}): void {
  const request = h('td', { class: 'request' }, h('code', {}, `${exchange.method} ${exchange.path}`))
  if (options.note) request.append(h('span', { class: 'note' }, options.note))
  const row = h(
    'tr',
    { title: exchange.cacheStatus === '' ? 'no Cache-Status' : `Cache-Status: ${exchange.cacheStatus}` },
    h('td', { class: 'time' }, new Date().toLocaleTimeString([], { hour12: false })),
    request,
    h('td', {}, options.answer ?? (exchange.method === 'GET' ? pill(exchange) : '—')),
    h('td', { class: 'num' }, exchange.ms.toFixed(0)),
    h('td', { class: `num status s${String(exchange.status)[0]}` }, String(exchange.status)),
  )
  const body = $('log')
  body.prepend(row)
  while (body.children.length > LOG_ROWS) body.lastElementChild?.remove()
}

// ------------------------------------------------------------------ product

let current = 1

/** Loads a product through the browser tiers and shows it, with what answered. */
async function show(id: number, note?: string): Promise<void> {
  current = id
  $<HTMLInputElement>('product-id').value = String(id)
  $('update-tag').textContent = productTag(id)
  history.replaceState(null, '', `#${id}`)
  const exchange = await getProduct(id, $<HTMLInputElement>('skip-browser').checked)
  log(exchange, { note })
  const card = $('product')
  const body = exchange.body
  const answered = h('p', { class: 'answered' }, pill(exchange), `${exchange.ms.toFixed(0)} ms`)
  if (exchange.freshFor !== undefined) {
    const s = exchange.freshFor
    answered.append(h('span', { class: 'freshness' }, s >= 0 ? `fresh for ${s} s more` : `stale for ${-s} s`))
  }
  if ('error' in body) {
    card.replaceChildren(answered, h('p', { class: 'missing' }, body.error), h('p', { class: 'meta' }, missingHint(exchange.status)))
  } else {
    const updated = body.version === 1 ? 'never' : new Date(body.updatedAt).toLocaleTimeString([], { hour12: false })
    card.replaceChildren(
      answered,
      h('h3', {}, body.name, h('span', { class: 'id' }, `#${body.id}`)),
      h('p', { class: 'price', 'data-testid': 'price' }, money(body.price)),
      h('dl', {}, ...fact('in stock', String(body.stock)), ...fact('version', String(body.version)), ...fact('updated', updated)),
    )
  }
  card.dataset.version = 'error' in body ? '' : String(body.version)
  card.dataset.tier = exchange.tier
  void refreshStats()
}

function fact(term: string, value: string): HTMLElement[] {
  return [h('dt', {}, term), h('dd', {}, value)]
}

function missingHint(status: number): string {
  if (status === 404) return '"Not found" is cached too, for 10 s: load it again and the database is not asked.'
  if (status === 503) return 'The database is down and no stored copy is left to stand in for it.'
  return ''
}

async function loadBatch(): Promise<void> {
  const exchange = await getProducts(BATCH_IDS)
  const loaded = exchange.body.loadedFromOrigin.length
  if (isBrowserTier(exchange.tier)) log(exchange, { note: 'the stored response of an earlier batch' })
  else if (loaded === 0) log(exchange, { note: 'every id from the edge tiers', answer: pill({ tier: 'edge', stale: false }) })
  else log(exchange, { note: `1 database query for ${loaded} of ${BATCH_IDS.length} ids`, answer: pill({ tier: 'origin', stale: false }) })
}

async function loadBurst(): Promise<void> {
  const id = 7 + Math.floor(Math.random() * 44)
  const result = await stampede(id)
  const queries = `${result.originCalls} database ${result.originCalls === 1 ? 'query' : 'queries'}`
  log(
    { method: 'GET', path: `/api/products/${id} ×50`, status: 200, ms: result.ms, body: null, cacheStatus: '', freshFor: undefined, tier: 'origin', stale: false },
    { note: `${result.ok} of 50 answered, past the browser tiers`, answer: queries },
  )
}

/** Warms the Worker's top products, moving the progress bar with each line it streams. */
async function warmTop(): Promise<void> {
  const bar = $<HTMLProgressElement>('warm-progress')
  const status = $('warm-status')
  bar.hidden = false
  bar.value = 0
  status.textContent = ''
  const { ms, last } = await warmTopProducts((line) => {
    bar.max = line.total
    bar.value = line.done
    status.textContent = `${line.done} / ${line.total}`
  })
  const summary = last === undefined ? 'no answer' : `${last.loaded} loaded, ${last.fresh} already fresh${last.failed > 0 ? `, ${last.failed} failed` : ''}`
  status.textContent = summary
  document.body.dataset.warmed = last?.finished === true ? 'true' : 'false'
  log(
    { method: 'POST', path: '/api/warm', status: last?.finished === true ? 200 : 500, ms, body: null, cacheStatus: '', freshFor: undefined, tier: 'origin', stale: false },
    { note: `${last?.total ?? 0} top products`, answer: summary },
  )
}

/** Changes the shown product's price with a soft or hard invalidation, and logs what the next requests got. */
async function changeWith(mode: 'soft' | 'hard'): Promise<void> {
  const id = current
  const result = $('invalidate-result')
  result.textContent = ''
  delete result.dataset.done
  const outcome = await changePriceAndWatch(id, mode)
  log(outcome.change, { note: `mode ${mode}` })
  const old = outcome.probes.filter((p) => p.price === outcome.oldPrice && outcome.oldPrice !== outcome.newPrice)
  for (const probe of outcome.probes) {
    const stale = old.includes(probe)
    log(
      { method: 'GET', path: `/api/products/${id}`, body: null, freshFor: undefined, ...probe, ...(stale ? { stale: 'swr' as const } : {}) },
      { note: `right after the ${mode} invalidation: ${stale ? 'old price' : 'new price'} ${probe.price === undefined ? '' : money(probe.price)}` },
    )
  }
  const slowest = (probes: typeof old) => Math.max(0, ...probes.map((p) => p.ms)).toFixed(0)
  const fresh = outcome.probes.filter((p) => !old.includes(p))
  const parts = [
    old.length > 0 ? `${old.length} got the old price ${money(outcome.oldPrice ?? 0)} (stale) within ${slowest(old)} ms` : '',
    fresh.length > 0 ? `${fresh.length} the new price ${money(outcome.newPrice ?? 0)} within ${slowest(fresh)} ms` : '',
  ].filter(Boolean)
  result.textContent = `${mode}: of ${outcome.probes.length} requests right after, ${parts.join(' and ')}; ${outcome.queries} database ${outcome.queries === 1 ? 'query' : 'queries'}.`
  result.dataset.mode = mode
  result.dataset.stale = String(old.length)
  result.dataset.queries = String(outcome.queries)
  result.dataset.done = 'true'
}

// ------------------------------------------------------------------ stats

const L2_NAMES: Record<EdgeStats['tiers']['l2'], string> = { memory: 'in memory, per isolate', kv: 'Workers KV', upstash: 'Upstash Redis' }
const COORDINATOR_NAMES: Record<EdgeStats['tiers']['coordinator'], string> = {
  local: 'in-process (this isolate only)',
  'durable-object': 'a Durable Object',
  upstash: 'Upstash Redis',
}

async function refreshStats(): Promise<void> {
  const edge = await edgeStats()
  const rows = [
    ...browserCache.stats().tiers.map((t, i) => ({ ...t, label: i === 0 ? 'memory' : 'IndexedDB', tier: i === 0 ? 'memory' : 'indexeddb' })),
    ...edge.cache.tiers.map((t, i) => ({ ...t, label: `edge L${i + 1} · ${t.name}`, tier: i === 0 ? 'edge-l1' : 'edge-l2' })),
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
  // What createEdgeCache picked from the Worker's bindings.
  $('l2-name').textContent = L2_NAMES[edge.tiers.l2]
  $('coordinator-name').textContent = COORDINATOR_NAMES[edge.tiers.coordinator]
  $('tiers-summary').textContent = `(${edge.tiers.l2} + ${edge.tiers.coordinator}: pick others with npm run demo -- --l2 memory|kv|upstash --coordinator local|durable-object|upstash)`
  document.body.dataset.l2 = edge.tiers.l2
  document.body.dataset.coordinator = edge.tiers.coordinator
  const { total, batches, calls } = edge.origin
  $('origin-stats').textContent = `Database: ${total} queries (${batches} of them batches) for ${Object.keys(calls).length} ids.`
  $<HTMLInputElement>('origin-down').checked = edge.origin.failing
  document.body.classList.toggle('origin-down', edge.origin.failing)
}

// ------------------------------------------------------------------ wiring

/** Runs a button's work with the button disabled meanwhile. */
function onClick(id: string, work: () => Promise<void>): void {
  const button = $<HTMLButtonElement>(id)
  button.addEventListener('click', () => {
    button.disabled = true
    work()
      .then(refreshStats)
      .catch((error: unknown) => console.error(error))
      .finally(() => {
        button.disabled = false
      })
  })
}

function wire(): void {
  $('quick').append(
    ...QUICK_IDS.map((id) => {
      const chip = h('button', { type: 'button', class: 'chip' }, id === 999 ? '999 (404)' : String(id))
      chip.addEventListener('click', () => void show(id))
      return chip
    }),
  )
  $('picker').addEventListener('submit', (event) => {
    event.preventDefault()
    const id = Number($<HTMLInputElement>('product-id').value)
    if (Number.isInteger(id) && id > 0) void show(id)
  })
  onClick('update', async () => log(await updateProduct(current)))
  onClick('soft', () => changeWith('soft'))
  onClick('hard', () => changeWith('hard'))
  onClick('batch', loadBatch)
  onClick('stampede', loadBurst)
  onClick('warm', warmTop)
  const down = $<HTMLInputElement>('origin-down')
  down.addEventListener('change', () => void setOriginDown(down.checked).then(log).then(refreshStats))
  $('refresh-stats').addEventListener('click', () => void refreshStats())

  // A tag invalidated here or in another tab (broadcastInvalidation) drops the shown product: show it again.
  browserCache.subscribe((event) => {
    if (event.type === 'invalidate' && event.tags?.includes(productTag(current))) void show(current, `tag ${productTag(current)} invalidated`)
  })
}

declare global {
  interface Window {
    /** For the devtools console: `tiercacheDemo.cache.stats()`, `await tiercacheDemo.cache.invalidateTags(['product:1'])`. */
    tiercacheDemo: { cache: typeof browserCache; show: typeof show }
  }
}
window.tiercacheDemo = { cache: browserCache, show }

wire()
const initial = Number(location.hash.slice(1))
await show(Number.isInteger(initial) && initial > 0 ? initial : 1)
document.body.dataset.ready = 'true'
