import { CacheError, parseDuration, warm, type Cache, type Duration, type Policy } from '@tiercache/core'
import { choiceOf, createEdgeCache, type EdgeCacheEnv, type EdgeCoordinatorKind, type EdgeL2 } from '@tiercache/edge'
import { tiercache, type TiercacheVariables } from '@tiercache/edge/hono'
import { Redis } from '@upstash/redis/cloudflare'
import { Hono, type Context } from 'hono'
import { Origin, OriginDownError, parseLatency, productKey, type Product } from './origin.js'

// The Durable Object class behind the 'durable-object' coordinator, bound as TIERCACHE in wrangler.toml.
export { TiercacheCoordinator } from '@tiercache/edge'

/**
 * The bindings (wrangler.toml): the D1 database DB, the KV namespace TIERCACHE_KV and the Durable Object TIERCACHE.
 * createEdgeCache picks the L2 and the coordinator from them: Upstash for both when UPSTASH_REDIS_REST_URL and _TOKEN
 * are set, else KV + the Durable Object; TIERCACHE_L2 / TIERCACHE_COORDINATOR pick explicitly.
 */
export interface Env extends EdgeCacheEnv {
  /** The products table (migrations/0001_products.sql). */
  DB: D1Database
  /** The database's artificial latency per query, ms or a range 'min-max'. @default '150-250' */
  ORIGIN_DELAY_MS?: string
  /** Pick the L2 instead of letting the bindings decide: 'memory', 'kv' or 'upstash'. */
  TIERCACHE_L2?: EdgeL2
  /** Pick the coordinator: 'local' (per isolate), 'durable-object' or 'upstash'. */
  TIERCACHE_COORDINATOR?: EdgeCoordinatorKind
  /**
   * Optional: every product's stale-while-revalidate window instead of 10 s (a duration, e.g. '1m'). The load test
   * sets it so that products do not age out during a run: what it measures is then the faults alone.
   */
  PRODUCT_SWR?: string
}

/**
 * The longest a product request may take: half the 30 s after which the load test's client (like many HTTP clients)
 * gives up, so that an answer still reaches it. (The load test also reports every answer after 10 s.)
 */
const REQUEST_BUDGET_MS = 15_000
/** The cache's tierTimeout and lockWait (core's defaults, given explicitly): a miss waits at most their sum on tiers and locks. */
const TIER_TIMEOUT_MS = 1_000
const LOCK_WAIT_MS = 2_000

/**
 * Every product, in every tier and in the headers: fresh 10 s, then 10 s of stale-while-revalidate, then
 * stale-if-error for 10 min; an unknown id is remembered for 10 s. A query gets what the budget leaves after the
 * waits on tiers and locks (12 s; 150-250 ms normally, seconds on a loaded machine): a stuck one fails its load (a stale copy answers, else 503)
 * instead of holding its request and the requests that joined its load.
 */
export const productPolicy = {
  ttl: '10s',
  swr: '10s',
  staleIfError: '10m',
  negativeTtl: '10s',
  hardTimeout: REQUEST_BUDGET_MS - TIER_TIMEOUT_MS - LOCK_WAIT_MS,
  tags: ['products'],
} satisfies Policy

let products: Policy | undefined
/** productPolicy, with the env's PRODUCT_SWR if set (checked once: a bad value fails the first request, loudly). */
function productsPolicy(env: Env): Policy {
  products ??= env.PRODUCT_SWR ? { ...productPolicy, swr: parseDuration(env.PRODUCT_SWR as Duration, 'env.PRODUCT_SWR') } : productPolicy
  return products
}

/** Most ids one batch request may ask for. */
const MAX_BATCH = 50

/** The products "Warm top products" loads into the edge tiers: the catalogue's first ids, its bestsellers. */
const TOP_PRODUCTS = 30

/** The database's counters and failing switch live as long as the isolate (one under `wrangler dev`); its rows in D1. */
let origin: Origin | undefined
function originOf(env: Env): Origin {
  if (origin === undefined) {
    const latency = parseLatency(env.ORIGIN_DELAY_MS)
    if (latency === undefined) throw new TypeError(`env.ORIGIN_DELAY_MS must be milliseconds or a range like '150-250', got ${JSON.stringify(env.ORIGIN_DELAY_MS)}`)
    origin = new Origin({ latency })
  }
  return origin
}
/**
 * Which isolate answers: a load test tells a restarted isolate (all state gone) from a cache that lost entries.
 * Made on first use: Workers allow no random values in global scope.
 */
let isolate: string | undefined
/**
 * Requests under /api/ that reached this Worker from outside (background refreshes through `app` are not counted), and
 * those it answered, since the isolate started: the load test compares them with what it sent, to tell a request held
 * in front of the Worker (wrangler dev's proxy, workerd) from one held by it.
 */
const traffic = { received: 0, answered: 0 }

const app = new Hono<{ Bindings: Env; Variables: TiercacheVariables }>()

/** The isolate's cache, built on the first request. */
let built: Cache | undefined
const cacheOf = (env: Env): Cache =>
  (built ??= createEdgeCache(env, {
    Redis,
    l1MaxTtl: '3s',
    namespace: 'demo',
    policy: productsPolicy(env),
    tierTimeout: TIER_TIMEOUT_MS,
    lockWait: LOCK_WAIT_MS,
    // Unset: from the bindings (logged once per isolate). The demo script sets them from --l2 / --coordinator.
    l2: env.TIERCACHE_L2 || undefined,
    coordinator: env.TIERCACHE_COORDINATOR || undefined,
  }))

app.use(
  '/api/*',
  tiercache<{ Bindings: Env }>({
    app, // to refresh a stale response in the background (stale-while-revalidate)
    // Built once per isolate: Cache API L1, and an L2 and coordinator picked from the bindings (see Env).
    // L1 keeps an entry 3 s at most, as a quieter data centre would, so that L2 answers show up on one machine.
    cache: cacheOf,
    // Whole responses of GET /api/products/:id are cached, tagged with their product; the rest only gets c.var.cache.
    policy: (request, env) => {
      const id = /^\/api\/products\/(\d+)$/.exec(new URL(request.url).pathname)?.[1]
      return id === undefined ? undefined : { ...productsPolicy(env), tags: [productKey(Number(id))] }
    },
    statusName: 'edge',
  }),
)

app.get('/api/products/:id', async (c) => {
  const id = parseId(c.req.param('id'))
  if (id === undefined) return c.json({ error: 'id must be a positive integer' }, 400)
  // A 404 is cached for negativeTtl; a 5xx is not, and lets stale-if-error answer with the last good copy.
  const product = await originOf(c.env).product(c.env.DB, id)
  return product === null ? c.json({ error: `no product ${id}` }, 404) : c.json(product)
})

app.get('/api/products', async (c) => {
  const ids = (c.req.query('ids') ?? '').split(',').filter((s) => s !== '').map(parseId)
  if (ids.length === 0 || ids.length > MAX_BATCH || ids.includes(undefined)) {
    return c.json({ error: `ids must be 1 to ${MAX_BATCH} positive integers, like ?ids=1,2,3` }, 400, { 'Cache-Control': 'no-store' })
  }
  let loadedFromOrigin: string[] = []
  // Per product, not all-or-nothing: one with no copy in any tier while the database fails is listed in
  // `unavailable` (null in `products`), and the others still answer.
  const errors: unknown[] = []
  const products = await c.var.cache.getManyOrSet<Product>(
    (ids as number[]).map(productKey),
    (missing) => {
      loadedFromOrigin = missing
      return originOf(c.env).products(c.env.DB, missing.map((key) => Number(key.slice('product:'.length))))
    },
    // A policy per key: each entry carries its own product's tag, so an update drops only that product.
    (key) => ({ ...productsPolicy(c.env), tags: [key] }),
    { errors },
  )
  const unavailable = [...new Set((ids as number[]).filter((_, i) => products[i] === undefined))]
  // Nothing to answer with at all: the error of the first (a database outage answers 503, see onError).
  if (unavailable.length > 0 && products.every((product) => product === undefined)) throw errors[0]
  if (unavailable.length === 0) return c.json({ products, loadedFromOrigin }, 200, { 'Cache-Control': c.var.cache.cacheControl() })
  // A partial answer is for this moment only: no browser or CDN may keep it.
  return c.json({ products: products.map((product) => product ?? null), loadedFromOrigin, unavailable }, 200, { 'Cache-Control': 'no-store' })
})

// A price change: the row in D1, then the product's tag invalidated in every tier and every isolate sharing the
// coordinator. POST /api/products/:id always invalidates hard (and, being an unsafe method on the product's own URL,
// drops that URL's stored response as RFC 9111 §4.4 asks); POST /api/products/:id/price takes { mode }:
// - 'hard' (default): the entries are gone, the next request is a miss that waits for the database;
// - 'soft': they turn stale, so requests within swr get the old copy at once while one background load brings the
//   new one (a URL other than the product's, so that §4.4 leaves the stored response to go stale).
app.post('/api/products/:id', (c) => changePrice(c, 'hard'))
app.post('/api/products/:id/price', (c) => changePrice(c, undefined))

async function changePrice(c: Context<{ Bindings: Env; Variables: TiercacheVariables }>, forced: 'hard' | undefined): Promise<Response> {
  const id = parseId(c.req.param('id'))
  if (id === undefined) return c.json({ error: 'id must be a positive integer' }, 400)
  const body: { price?: unknown; stock?: unknown; mode?: unknown } = await c.req.json().catch(() => ({}))
  const mode = forced ?? body.mode ?? 'hard'
  if (mode !== 'soft' && mode !== 'hard') return c.json({ error: "mode must be 'soft' or 'hard'" }, 400, { 'Cache-Control': 'no-store' })
  const product = await originOf(c.env).update(c.env.DB, id, {
    price: typeof body.price === 'number' ? Math.round(body.price) : 900 + Math.floor(Math.random() * 9_100),
    ...(typeof body.stock === 'number' ? { stock: Math.round(body.stock) } : {}),
  })
  if (product === null) return c.json({ error: `no product ${id}` }, 404, { 'Cache-Control': 'no-store' })
  await c.var.cache.invalidateTags([productKey(id)], { mode })
  return c.json(product, 200, { 'Cache-Control': 'no-store', 'Tiercache-Invalidated': `${productKey(id)}; mode=${mode}` })
}

// Warm top products: loads the bestsellers into the edge tiers (the entries the batch route reads) before anyone
// asks, 4 database queries at a time, skipping those already fresh; streams progress as one JSON line per product.
app.post('/api/warm', (c) => {
  const keys = Array.from({ length: TOP_PRODUCTS }, (_, i) => productKey(i + 1))
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>()
  const writer = writable.getWriter()
  const encoder = new TextEncoder()
  const line = (value: object): Promise<void> => writer.write(encoder.encode(`${JSON.stringify(value)}\n`)).catch(() => {}) // the page left
  // c.var.cache is a view of the cache (its background work goes to this request's waitUntil): warm() takes it.
  const warming = warm(
    c.var.cache,
    keys,
    (ctx) => {
      ctx.setPolicy({ ...productsPolicy(c.env), tags: [ctx.key] }) // each entry with its product's tag, as the batch route does
      return originOf(c.env).product(c.env.DB, Number(ctx.key.slice('product:'.length)))
    },
    { concurrency: 4, policy: productsPolicy(c.env), onProgress: (progress) => void line(progress) },
  )
    .then(({ errors, ...result }) => line({ ...result, finished: true, errors: errors.map(({ key }) => key) }))
    .catch((error: unknown) => line({ finished: true, error: String(error) }))
    .finally(() => writer.close().catch(() => {}))
  c.executionCtx.waitUntil(warming)
  return new Response(readable, { headers: { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' } })
})

app.get('/api/stats', (c) => {
  isolate ??= crypto.randomUUID()
  // tiers: which L2 and coordinator createEdgeCache picked, as the page shows them.
  const { l2, coordinator, summary } = choiceOf(cacheOf(c.env)) ?? { l2: 'memory', coordinator: 'local', summary: '' }
  return c.json({ cache: c.var.cache.stats(), origin: originOf(c.env).stats(), tiers: { l2, coordinator, summary }, isolate, requests: traffic }, 200, {
    'Cache-Control': 'no-store',
  })
})

app.get('/api/health', (c) => c.json({ ok: true }, 200, { 'Cache-Control': 'no-store' }))

app.post('/api/origin/fail', async (c) => {
  const body: { failing?: unknown } = await c.req.json().catch(() => ({}))
  const db = originOf(c.env)
  db.failing = typeof body.failing === 'boolean' ? body.failing : !db.failing
  return c.json({ failing: db.failing }, 200, { 'Cache-Control': 'no-store' })
})

app.onError((error, c) => {
  // The database failed, or did not answer within productPolicy.hardTimeout, and no copy could answer instead.
  if (error instanceof OriginDownError || (error instanceof CacheError && error.code === 'LOADER_TIMEOUT')) {
    return c.json({ error: error.message }, 503, { 'Cache-Control': 'no-store' })
  }
  throw error
})

function parseId(raw: string | undefined): number | undefined {
  const id = Number(raw)
  return Number.isSafeInteger(id) && id > 0 ? id : undefined
}

export default {
  async fetch(request, env, ctx) {
    if (!new URL(request.url).pathname.startsWith('/api/')) return app.fetch(request, env, ctx)
    traffic.received++
    try {
      return await app.fetch(request, env, ctx)
    } finally {
      traffic.answered++
    }
  },
} satisfies ExportedHandler<Env>
