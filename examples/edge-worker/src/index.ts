// A Worker whose GET /api/* answers are cached by tiercache: the Workers Cache API in front (per data centre), an L2
// and a coordinator behind it picked from the bindings (Upstash Redis when UPSTASH_REDIS_REST_URL / _TOKEN are set,
// else Workers KV + the Durable Object, else in memory), and a D1 database as the origin. Every answer says where it
// came from in Cache-Status; GET /tiers says which L2 and coordinator are active.
import type { Cache } from '@tiercache/core'
import { choiceOf, createEdgeCache, withCache, type EdgeCacheEnv, type EdgeCoordinatorKind, type EdgeL2 } from '@tiercache/edge'
import { Redis } from '@upstash/redis/cloudflare'
import { findProduct, setPrice, type OriginEnv } from './products.js'

// The Durable Object class behind the 'durable-object' coordinator, bound as TIERCACHE in wrangler.jsonc.
export { TiercacheCoordinator } from '@tiercache/edge'

export interface Env extends EdgeCacheEnv, OriginEnv {
  /** Pick the L2 instead of letting the bindings decide: 'memory', 'kv' or 'upstash'. */
  TIERCACHE_L2?: EdgeL2
  /** Pick the coordinator: 'local', 'durable-object' or 'upstash'. */
  TIERCACHE_COORDINATOR?: EdgeCoordinatorKind
}

// One cache per isolate and tier choice, built from the first request's env; the handler also uses it to invalidate.
const built = new Map<string, Cache>()
function cacheFor(env: Env): Cache {
  const choice = `${env.TIERCACHE_L2}/${env.TIERCACHE_COORDINATOR}`
  let cache = built.get(choice)
  if (cache === undefined) {
    cache = createEdgeCache(env, { Redis, namespace: 'example:v1', l2: env.TIERCACHE_L2, coordinator: env.TIERCACHE_COORDINATOR })
    built.set(choice, cache)
  }
  return cache
}

/** The origin: what the Worker would answer without a cache. */
async function origin(request: Request, env: Env): Promise<Response> {
  const { pathname, searchParams } = new URL(request.url)
  if (request.method === 'POST' && pathname === '/admin/invalidate') {
    // Every isolate stops serving entries with this tag within tagCacheTtl (5 s by default).
    await cacheFor(env).invalidateTags([searchParams.get('tag') ?? 'products'])
    return new Response(null, { status: 204 })
  }
  if (request.method === 'POST' && pathname === '/admin/price') {
    // A price change in D1, then the invalidation that makes every tier ask D1 again.
    const changed = await setPrice(env, searchParams.get('id') ?? '', Number(searchParams.get('cents')))
    if (changed) await cacheFor(env).invalidateTags(['products'])
    return new Response(null, { status: changed ? 204 : 404 })
  }
  if (pathname === '/tiers') return Response.json(choiceOf(cacheFor(env)))
  if (pathname === '/api/time') return Response.json({ now: new Date().toISOString() })
  const product = /^\/api\/products\/(\w+)$/.exec(pathname)
  if (product !== null) {
    const found = await findProduct(env, product[1] as string)
    return found === null ? Response.json({ error: 'no such product' }, { status: 404 }) : Response.json(found)
  }
  // A response that sets a cookie is never cached, even under /api/.
  if (pathname === '/api/session') return Response.json({ user: 'guest' }, { headers: { 'set-cookie': 'visited=1; Path=/' } })
  return new Response(
    'tiercache edge example: GET /api/products/1, /api/time, /tiers; POST /admin/invalidate?tag=products, /admin/price?id=1&cents=2000\n',
    { headers: { 'content-type': 'text/plain; charset=utf-8' } },
  )
}

export default {
  fetch: withCache<Env>(origin, {
    cache: (env) => cacheFor(env),
    // Only /api/* is cached: 10 s fresh, then served stale for a minute while it refreshes in the background,
    // and for an hour if the origin fails. Other paths pass through (Cache-Status: tiercache; fwd=bypass).
    policy: (request) =>
      new URL(request.url).pathname.startsWith('/api/') ? { ttl: '10s', swr: '1m', staleIfError: '1h', tags: ['products'] } : undefined,
    // A 404 is kept for 5 s, its body included.
    negativeTtl: '5s',
  }),
} satisfies ExportedHandler<Env>
