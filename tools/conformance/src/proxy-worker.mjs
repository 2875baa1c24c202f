// The shared-cache target: a Worker that is withCache in front of the suite's server (env.ORIGIN), the way an app
// would put tiercache in front of an origin. Bundled by esbuild and run in workerd by miniflare (workerd-proxy.mjs).
import { createEdgeCache, withCache } from '@tiercache/edge'

/** Forwards the request to the origin: same path, method, headers and body. */
async function origin(request, env) {
  const url = new URL(request.url)
  const target = new URL(url.pathname + url.search, env.ORIGIN)
  return fetch(new Request(target, request))
}

const cache = (env) => createEdgeCache(env, { namespace: 'conformance', log: () => {} })

/**
 * The lifetimes: from the origin's response when withCache supports it (`policy: 'origin'`, RFC 9111 shared-cache
 * mode); until then tiercache's own policy, as an app caching its own handlers would set it.
 */
function build() {
  try {
    return { mode: 'origin', fetch: withCache(origin, { cache, policy: 'origin' }) }
  } catch {
    return { mode: 'policy { ttl: 1h }', fetch: withCache(origin, { cache, policy: { ttl: '1h' } }) }
  }
}
const handler = build()

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname === '/__conformance/mode') return new Response(handler.mode)
    return handler.fetch(request, env, ctx)
  },
}
