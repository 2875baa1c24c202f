// packages/edge/README.md, "OpenTelemetry": a span per request that withCache looks up.
import { instrumentCache } from '@tiercache/core/otel'
import { createEdgeCache, withCache, type EdgeCacheEnv } from '@tiercache/edge'
import { Redis } from '@upstash/redis/cloudflare'

async function origin(request: Request): Promise<Response> {
  return Response.json({ path: new URL(request.url).pathname })
}

export default {
  fetch: withCache(origin, {
    // Built once per isolate; every request's view (cache.withContext) stays instrumented.
    cache: (env: EdgeCacheEnv) => instrumentCache(createEdgeCache(env, { Redis }), { attributes: { 'tiercache.cache.name': 'responses' } }),
    policy: { ttl: '30s', swr: '5m' },
  }),
}
