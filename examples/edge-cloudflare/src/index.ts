// A Worker cached by tiercache with Cloudflare bindings only: the Workers Cache API (L1, per data centre), Workers KV
// (L2, global) and the TiercacheCoordinator Durable Object, which gives every isolate the same locks (a stampede
// of misses loads once) and the same tag invalidations. No account or credentials outside Cloudflare.
import type { Cache } from '@tiercache/core'
import { createEdgeCache, withCache, type DurableObjectNamespaceLike, type KvNamespaceLike } from '@tiercache/edge'

// The Durable Object class, bound as TIERCACHE in wrangler.jsonc.
export { TiercacheCoordinator } from '@tiercache/edge'

export interface Env {
  TIERCACHE_KV: KvNamespaceLike
  TIERCACHE: DurableObjectNamespaceLike
}

// One cache per isolate: L1 Cache API, L2 env.TIERCACHE_KV, coordinator env.TIERCACHE (chosen from the bindings).
let cache: Cache | undefined
function cacheFor(env: Env): Cache {
  cache ??= createEdgeCache(env, { namespace: 'example:v1' })
  return cache
}

const PRODUCTS: Record<string, { id: string; name: string; cents: number }> = {
  '1': { id: '1', name: 'Teapot', cents: 1800 },
  '2': { id: '2', name: 'Kettle', cents: 3900 },
  '3': { id: '3', name: 'Cup', cents: 900 },
}
/** How many times this isolate ran the origin (GET /admin/stats). */
let originRuns = 0

/** The origin: what the Worker would answer without a cache (a slow database, say). */
async function origin(request: Request, env: Env): Promise<Response> {
  const { pathname, searchParams } = new URL(request.url)
  if (request.method === 'POST' && pathname === '/admin/invalidate') {
    // Strongly consistent in the Durable Object: every isolate stops serving these entries within tagCacheTtl (5 s).
    await cacheFor(env).invalidateTags([searchParams.get('tag') ?? 'products'])
    return new Response(null, { status: 204 })
  }
  if (pathname === '/admin/stats') return Response.json({ originRuns, ...cacheFor(env).stats() })
  const product = /^\/api\/products\/(\w+)$/.exec(pathname)
  if (product === null) return new Response('GET /api/products/1; POST /admin/invalidate?tag=product:1 (or products)\n')
  originRuns++
  await new Promise((resolve) => setTimeout(resolve, 100))
  const found = PRODUCTS[product[1] as string]
  if (found === undefined) return Response.json({ error: 'no such product' }, { status: 404 })
  return Response.json({ ...found, loadedAt: new Date().toISOString() })
}

export default {
  fetch: withCache<Env>(origin, {
    cache: (env) => cacheFor(env),
    // /api/products/<id>: a minute fresh, ten more served stale while it refreshes; tagged to be invalidated alone
    // (product:<id>) or with every product (products). Other paths pass through.
    policy: (request) => {
      const id = /^\/api\/products\/(\w+)$/.exec(new URL(request.url).pathname)?.[1]
      return id === undefined ? undefined : { ttl: '1m', swr: '10m', tags: ['products', `product:${id}`] }
    },
  }),
} satisfies ExportedHandler<Env>
