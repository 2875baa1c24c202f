import { cacheHeaders, createCache, memoryStore, type Cache, type Policy } from '@tiercache/core'
import { Hono, type Context } from 'hono'
import { Origin, OriginDownError, productKey, type Product } from './origin.js'
import { getOrSetWithTier } from './served.js'

export interface Env {
  UPSTASH_REDIS_REST_URL?: string
  UPSTASH_REDIS_REST_TOKEN?: string
}

/**
 * Every product entry, in every tier and in the headers: fresh 10 s, then 10 s of stale-while-revalidate,
 * then stale-if-error for 10 min; an unknown id is remembered for 10 s.
 */
export const productPolicy = { ttl: '10s', swr: '10s', staleIfError: '10m', negativeTtl: '10s', tags: ['products'] } satisfies Policy

/** Most ids one batch request may ask for (each loaded entry carries one tag per id, see below). */
const MAX_BATCH = 50

// One per isolate: the database stand-in and the cache outlive requests, waitUntil does not.
const origin = new Origin()
let shared: Cache | undefined

function cacheFor(_env: Env): Cache {
  shared ??= createCache({ tiers: [memoryStore({ maxEntries: 1_000 })], namespace: 'demo', policy: productPolicy })
  return shared
}

type App = { Bindings: Env; Variables: { cache: Cache } }
const app = new Hono<App>()

app.use('/api/*', async (c, next) => {
  c.set('cache', cacheFor(c.env).withContext({ waitUntil: (p) => c.executionCtx.waitUntil(p) }))
  await next()
})

app.get('/api/products/:id', async (c) => {
  const id = parseId(c.req.param('id'))
  if (id === undefined) return c.json({ error: 'id must be a positive integer' }, 400, { 'Cache-Control': 'no-store' })
  const cache = c.var.cache
  const answer = await getOrSetWithTier(cache, productKey(id), () => origin.product(id), { tags: [productKey(id)] })
  const headers = answerHeaders(cache, answer.value === null, answer.tier, answer.stale)
  if (answer.value === null) return c.json({ error: `no product ${id}` }, 404, headers)
  return c.json(answer.value, 200, headers)
})

app.get('/api/products', async (c) => {
  const ids = (c.req.query('ids') ?? '').split(',').filter((s) => s !== '').map(parseId)
  if (ids.length === 0 || ids.length > MAX_BATCH || ids.some((id) => id === undefined)) {
    return c.json({ error: `ids must be 1 to ${MAX_BATCH} positive integers, like ?ids=1,2,3` }, 400, { 'Cache-Control': 'no-store' })
  }
  let loaded: string[] = []
  const products = await c.var.cache.getManyOrSet<Product>(
    (ids as number[]).map(productKey),
    async (missing, ctx) => {
      loaded = missing
      // A batch has one policy: every entry it loads carries the tag of every id of the batch. An update of one
      // of them then drops its batch-mates too: one extra load each, never a stale product.
      ctx.setPolicy({ tags: missing.map((key) => key) })
      return origin.products(missing.map((key) => Number(key.slice('product:'.length))))
    },
  )
  return c.json({ products, loadedFromOrigin: loaded }, 200, answerHeaders(c.var.cache, false, loaded.length > 0 ? 'origin' : 'cache', false))
})

app.post('/api/products/:id', async (c) => {
  const id = parseId(c.req.param('id'))
  if (id === undefined) return c.json({ error: 'id must be a positive integer' }, 400)
  const body: { price?: unknown; stock?: unknown } = await c.req.json().catch(() => ({}))
  const change = {
    price: typeof body.price === 'number' ? Math.round(body.price) : 900 + Math.floor(Math.random() * 9_100),
    ...(typeof body.stock === 'number' ? { stock: Math.round(body.stock) } : {}),
  }
  const product = await origin.update(id, change)
  if (product === null) return c.json({ error: `no product ${id}` }, 404, { 'Cache-Control': 'no-store' })
  // Every tier stops serving entries tagged with this product, here and in every isolate sharing the coordinator.
  await c.var.cache.invalidateTags([productKey(id)])
  return c.json(product, 200, { 'Cache-Control': 'no-store' })
})

app.get('/api/health', (c) => c.json({ ok: true }, 200, { 'Cache-Control': 'no-store' }))

app.get('/api/stats', (c) => c.json({ cache: c.var.cache.stats(), origin: origin.stats() }, 200, { 'Cache-Control': 'no-store' }))

app.post('/api/origin/fail', async (c) => {
  const body: { failing?: unknown } = await c.req.json().catch(() => ({}))
  origin.failing = typeof body.failing === 'boolean' ? body.failing : !origin.failing
  return c.json({ failing: origin.failing }, 200, { 'Cache-Control': 'no-store' })
})

app.onError((error, c) => {
  if (error instanceof OriginDownError) {
    return c.json({ error: error.message }, 503, { 'Cache-Control': 'no-store', 'Cache-Status': 'edge; fwd=miss; detail=origin-down' })
  }
  throw error
})

function parseId(raw: string | undefined): number | undefined {
  const id = Number(raw)
  return Number.isSafeInteger(id) && id > 0 ? id : undefined
}

/** Cache-Control and CDN-Cache-Control from the policy, Cache-Status naming the tier that answered (RFC 9211). */
function answerHeaders(cache: Cache, notFound: boolean, tier: string, stale: 'swr' | 'error' | false): Record<string, string> {
  const policy = cache.resolvePolicy()
  const lifetime = notFound ? { ttl: policy.negativeTtl } : policy
  const fromCache = tier !== 'origin'
  const headers = cacheHeaders(lifetime, {
    cdn: true,
    cacheName: 'edge',
    status: fromCache ? { hit: true, detail: stale === false ? tier : `${tier}/stale-${stale === 'swr' ? 'while-revalidate' : 'if-error'}` } : { hit: false, fwd: 'miss', stored: true },
  })
  return headers
}

export default app satisfies ExportedHandler<Env>
