import { parseDuration, warm, type Cache, type Duration, type Policy } from '@tiercache/core'
import { createEdgeCache, type EdgeCacheEnv } from '@tiercache/edge'
import { tiercache, type TiercacheVariables } from '@tiercache/edge/hono'
import { Redis } from '@upstash/redis/cloudflare'
import { Hono } from 'hono'
import { Origin, OriginDownError, productKey, type Product } from './origin.js'

/** UPSTASH_REDIS_REST_URL and _TOKEN (optional): set, the edge L2 is Upstash; unset, an in-memory L2. */
export interface Env extends EdgeCacheEnv {
  /**
   * Optional: every product's stale-while-revalidate window instead of 10 s (a duration, e.g. '1m'). The load test
   * sets it so that products do not age out during a run: what it measures is then the faults alone.
   */
  PRODUCT_SWR?: string
}

/**
 * Every product, in every tier and in the headers: fresh 10 s, then 10 s of stale-while-revalidate, then
 * stale-if-error for 10 min; an unknown id is remembered for 10 s.
 */
export const productPolicy = { ttl: '10s', swr: '10s', staleIfError: '10m', negativeTtl: '10s', tags: ['products'] } satisfies Policy

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

/** The database stand-in lives as long as the isolate (one under `wrangler dev`), like the cache. */
const origin = new Origin()
/**
 * Which isolate answers: a load test tells a restarted isolate (all state gone) from a cache that lost entries.
 * Made on first use: Workers allow no random values in global scope.
 */
let isolate: string | undefined

const app = new Hono<{ Bindings: Env; Variables: TiercacheVariables }>()

/** The isolate's cache, built on the first request. */
let built: Cache | undefined
const cacheOf = (env: Env): Cache => (built ??= createEdgeCache(env, { Redis, l1MaxTtl: '3s', namespace: 'demo', policy: productsPolicy(env) }))

app.use(
  '/api/*',
  tiercache<{ Bindings: Env }>({
    app, // to refresh a stale response in the background (stale-while-revalidate)
    // Built once per isolate: Cache API L1 + Upstash L2 with UPSTASH_REDIS_REST_URL/TOKEN, else an in-memory L2.
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
  const product = await origin.product(id)
  return product === null ? c.json({ error: `no product ${id}` }, 404) : c.json(product)
})

app.get('/api/products', async (c) => {
  const ids = (c.req.query('ids') ?? '').split(',').filter((s) => s !== '').map(parseId)
  if (ids.length === 0 || ids.length > MAX_BATCH || ids.includes(undefined)) {
    return c.json({ error: `ids must be 1 to ${MAX_BATCH} positive integers, like ?ids=1,2,3` }, 400, { 'Cache-Control': 'no-store' })
  }
  let loadedFromOrigin: string[] = []
  const products = await c.var.cache.getManyOrSet<Product>(
    (ids as number[]).map(productKey),
    (missing) => {
      loadedFromOrigin = missing
      return origin.products(missing.map((key) => Number(key.slice('product:'.length))))
    },
    // A policy per key: each entry carries its own product's tag, so an update drops only that product.
    (key) => ({ ...productsPolicy(c.env), tags: [key] }),
  )
  return c.json({ products, loadedFromOrigin }, 200, { 'Cache-Control': c.var.cache.cacheControl() })
})

app.post('/api/products/:id', async (c) => {
  const id = parseId(c.req.param('id'))
  if (id === undefined) return c.json({ error: 'id must be a positive integer' }, 400)
  const body: { price?: unknown; stock?: unknown } = await c.req.json().catch(() => ({}))
  const product = await origin.update(id, {
    price: typeof body.price === 'number' ? Math.round(body.price) : 900 + Math.floor(Math.random() * 9_100),
    ...(typeof body.stock === 'number' ? { stock: Math.round(body.stock) } : {}),
  })
  if (product === null) return c.json({ error: `no product ${id}` }, 404, { 'Cache-Control': 'no-store' })
  // Every entry tagged with this product stops being served, in every tier (and every isolate sharing Upstash).
  await c.var.cache.invalidateTags([productKey(id)])
  return c.json(product, 200, { 'Cache-Control': 'no-store' })
})

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
      return origin.product(Number(ctx.key.slice('product:'.length)))
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
  return c.json({ cache: c.var.cache.stats(), origin: origin.stats(), isolate }, 200, { 'Cache-Control': 'no-store' })
})

app.get('/api/health', (c) => c.json({ ok: true }, 200, { 'Cache-Control': 'no-store' }))

app.post('/api/origin/fail', async (c) => {
  const body: { failing?: unknown } = await c.req.json().catch(() => ({}))
  origin.failing = typeof body.failing === 'boolean' ? body.failing : !origin.failing
  return c.json({ failing: origin.failing }, 200, { 'Cache-Control': 'no-store' })
})

app.onError((error, c) => {
  if (error instanceof OriginDownError) return c.json({ error: error.message }, 503, { 'Cache-Control': 'no-store' })
  throw error
})

function parseId(raw: string | undefined): number | undefined {
  const id = Number(raw)
  return Number.isSafeInteger(id) && id > 0 ? id : undefined
}

export default app satisfies ExportedHandler<Env>
