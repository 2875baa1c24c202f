import type { Cache } from '@tiercache/core'
import { Hono } from 'hono'
import { productKey, type Catalogue, type Product } from './catalogue.js'
import { productPolicy } from './origin-cache.js'

/** Most ids one batch request may ask for. */
const MAX_BATCH = 50

/** The origin API: products read through the cache, updates written to SQLite and invalidated everywhere. */
export function createApp({ cache, catalogue }: { cache: Cache; catalogue: Catalogue }): Hono {
  const app = new Hono()

  app.get('/api/products/:id', async (c) => {
    const id = parseId(c.req.param('id'))
    if (id === undefined) return c.json({ error: 'id must be a positive integer' }, 400)
    const product = await cache.getOrSet(productKey(id), () => catalogue.product(id), { ...productPolicy, tags: [productKey(id)] })
    return product === null ? c.json({ error: `no product ${id}` }, 404) : c.json(product)
  })

  app.get('/api/products', async (c) => {
    const ids = (c.req.query('ids') ?? '').split(',').filter((s) => s !== '').map(parseId)
    if (ids.length === 0 || ids.length > MAX_BATCH || ids.includes(undefined)) {
      return c.json({ error: `ids must be 1 to ${MAX_BATCH} positive integers, like ?ids=1,2,3` }, 400)
    }
    let loadedFromOrigin: string[] = []
    const products = await cache.getManyOrSet<Product>(
      (ids as number[]).map(productKey),
      (missing) => {
        loadedFromOrigin = missing
        return catalogue.products(missing.map((key) => Number(key.slice('product:'.length))))
      },
      // Each entry carries its own product's tag, as the Worker's do: an update drops only that product.
      (key) => ({ ...productPolicy, tags: [key] }),
    )
    return c.json({ products, loadedFromOrigin })
  })

  app.post('/api/products/:id', async (c) => {
    const id = parseId(c.req.param('id'))
    if (id === undefined) return c.json({ error: 'id must be a positive integer' }, 400)
    const body: { price?: unknown; stock?: unknown } = await c.req.json().catch(() => ({}))
    const product = catalogue.update(id, {
      ...(typeof body.price === 'number' ? { price: Math.round(body.price) } : {}),
      ...(typeof body.stock === 'number' ? { stock: Math.round(body.stock) } : {}),
    })
    if (product === null) return c.json({ error: `no product ${id}` }, 404)
    // Every entry tagged with this product stops being served: on every server (the bus), in the Worker (the tag
    // stamp in Redis), and in the Worker's cached responses.
    await cache.invalidateTags([productKey(id)])
    // The new row goes to every tier at once, so the next reader anywhere (a Worker too) finds it in Redis.
    await cache.set(productKey(id), product, { ...productPolicy, tags: [productKey(id)] })
    return c.json(product)
  })

  app.get('/api/stats', (c) => c.json({ cache: cache.stats(), database: { queries: catalogue.queries } }))
  app.get('/api/health', (c) => c.json({ ok: true }))
  return app
}

function parseId(raw: string | undefined): number | undefined {
  const id = Number(raw)
  return Number.isSafeInteger(id) && id > 0 ? id : undefined
}
