// packages/edge/README.md, "tiercache with Workers Cache": one policy for Workers Cache, the CDN, the browser and
// tiercache's tiers, per-route scopes, and one invalidation for all of them.
import { createCache, memoryStore } from '@tiercache/core'
import { invalidateEverywhere, withCache, type HeaderScope } from '@tiercache/edge'

const cache = createCache({ tiers: [memoryStore()], namespace: 'shop' }) // createEdgeCache(env) in a real Worker
let price = 10

async function app(request: Request, _env: unknown, ctx: { waitUntil(p: Promise<unknown>): void }): Promise<Response> {
  const url = new URL(request.url)
  if (request.method === 'POST' && url.pathname === '/admin/price') {
    price = Number(await request.text())
    const mode = url.searchParams.get('mode') === 'soft' ? 'soft' : 'hard'
    // tiercache's tiers (every isolate, through the coordinator), then Workers Cache: ctx.cache.purge / invalidate
    const report = await invalidateEverywhere(cache, ['prices'], { ctx, mode })
    return Response.json(report.workersCache)
  }
  if (request.method === 'POST' && url.pathname === '/admin/catalogue') {
    price = Number(await request.text())
    // Everything stored under /products/ (every variant): tiercache's tiers (urlTags), Workers Cache by path prefix
    const report = await invalidateEverywhere(cache, { pathPrefixes: ['/products/'] }, { ctx })
    return Response.json(report.workersCache)
  }
  if (url.pathname.startsWith('/products/')) return Response.json({ id: url.pathname.slice('/products/'.length), price })
  if (url.pathname === '/price') return Response.json({ price })
  if (url.pathname === '/me') return Response.json({ user: 'ada' })
  return new Response('not found', { status: 404 })
}

const scopes: Record<string, HeaderScope> = { '/price': 'all', '/products/1': 'all', '/me': 'browser' }

export default {
  fetch: withCache(app, {
    cache,
    policy: (request) => (new URL(request.url).pathname.startsWith('/admin/') ? undefined : { ttl: '5m', swr: '1m', tags: ['prices'] }),
    scope: (request) => scopes[new URL(request.url).pathname] ?? 'tiers', // 'all' | 'browser' | 'shared' | 'tiers'
    urlTags: true, // invalidation by URL and path prefix reaches tiercache's tiers too
  }),
}
