// A Worker whose GET /api/* answers are cached by tiercache: the Workers Cache API in front (per data centre),
// Upstash Redis behind it (global) when UPSTASH_REDIS_REST_URL / UPSTASH_REDIS_REST_TOKEN are set, an in-memory
// L2 otherwise. Every answer says where it came from in Cache-Status.
import type { Cache } from '@tiercache/core'
import { createEdgeCache, withCache } from '@tiercache/edge'
import { Redis } from '@upstash/redis/cloudflare'

export interface Env {
  UPSTASH_REDIS_REST_URL?: string
  UPSTASH_REDIS_REST_TOKEN?: string
}

const PRODUCTS: Record<string, { id: string; name: string; cents: number }> = {
  '1': { id: '1', name: 'Teapot', cents: 1800 },
  '2': { id: '2', name: 'Kettle', cents: 3900 },
}

// One cache per isolate, built from the first request's env; the handler below also uses it to invalidate.
let cache: Cache | undefined
function cacheFor(env: Env): Cache {
  cache ??= createEdgeCache(env, { Redis, namespace: 'example:v1' })
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
  if (pathname === '/api/time') return Response.json({ now: new Date().toISOString() })
  const product = /^\/api\/products\/(\w+)$/.exec(pathname)
  if (product !== null) {
    const found = PRODUCTS[product[1] as string]
    return found === undefined ? Response.json({ error: 'no such product' }, { status: 404 }) : Response.json(found)
  }
  // A response that sets a cookie is never cached, even under /api/.
  if (pathname === '/api/session') return Response.json({ user: 'guest' }, { headers: { 'set-cookie': 'visited=1; Path=/' } })
  return new Response('tiercache edge example: GET /api/products/1, /api/time; POST /admin/invalidate?tag=products\n', {
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  })
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
