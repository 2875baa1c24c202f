// The Worker of the edge scenario. Bundled by esbuild (scenarios/edge.mjs) and run in workerd by miniflare.
// One script serves every contender, so they share the isolate, the runtime and the HTTP path:
//
//   /direct/<ms>/<key>   the origin itself (baseline: the same Worker without tiercache)
//   /tc/<ms>/<key>       the origin behind withCache + createEdgeCache (Cache API L1, Upstash L2 + coordinator)
//                        with header x-bench-prime: the same, but with another Cache API cache as L1, so the
//                        entry lands in Upstash while the measured L1 ('tc-l1') stays empty: L2 hits later
//   /hono/<key>          the origin behind hono's own `cache` middleware (Cache API only), the L1-hit peer
//   /__bench/stats       { originCalls, pending } as JSON (pending: waitUntil work not yet settled)
//
// <ms> is the origin's fixed latency. The origin counts its calls, so the driver can check that a hit did not
// reach it and that a miss reached it exactly once. A request with header x-bench-probe makes the origin read the
// Upstash endpoint's counters first (GET /__testkit/stats, itself not counted) and return them in the header
// x-upstash-before-origin: the round trips tiercache made before it called the origin.
import { createEdgeCache, withCache } from '@tiercache/edge'
import { Redis } from '@upstash/redis/cloudflare'
import { Hono } from 'hono'
import { cache as honoCache } from 'hono/cache'

/** @typedef {{ UPSTASH_REDIS_REST_URL: string, UPSTASH_REDIS_REST_TOKEN: string }} Env */
/** @typedef {{ waitUntil(promise: Promise<unknown>): void, passThroughOnException(): void, props?: unknown }} Context */

/** @type {import('@tiercache/core').Policy} */
const POLICY = { ttl: '1h' }
const NAMESPACE = 'bench'
let originCalls = 0
let pending = 0

/**
 * A small JSON document, like an API answer (about 300 bytes).
 * @param {Request} request
 * @param {Env} env
 * @param {number} ms
 */
async function origin(request, env, ms) {
  originCalls++
  const headers = new Headers({ 'content-type': 'application/json; charset=utf-8' })
  if (request.headers.has('x-bench-probe')) {
    const stats = await fetch(`${env.UPSTASH_REDIS_REST_URL}/__testkit/stats`, {
      headers: { authorization: `Bearer ${env.UPSTASH_REDIS_REST_TOKEN}` },
    })
    const { requests, byCommand } = /** @type {{ requests: number, byCommand: Record<string, number> }} */ (await stats.json())
    headers.set('x-upstash-before-origin', JSON.stringify({ requests, byCommand }))
  }
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
  const { pathname } = new URL(request.url)
  const body = JSON.stringify({
    path: pathname,
    name: `item ${pathname}`,
    price: 1999,
    tags: ['bench', 'edge', 'json'],
    description: 'A fixed document of a few hundred bytes, as a small API answer would be.',
  })
  return new Response(body, { headers })
}

/**
 * The origin latency from `/<prefix>/<ms>/<key>`.
 * @param {Request} request
 */
function latencyOf(request) {
  return Number(new URL(request.url).pathname.split('/')[2] ?? 0)
}

/** @type {import('@tiercache/edge').FetchHandler<Env>} */
const handler = (request, env) => origin(request, env, latencyOf(request))
const measured = withCache(handler, {
  cache: (env) => createEdgeCache(env, { Redis, namespace: NAMESPACE, cacheName: 'tc-l1' }),
  policy: POLICY,
})
// Same namespace, Redis prefix and keys; only its L1 is another Cache API cache.
const primer = withCache(handler, {
  cache: (env) => createEdgeCache(env, { Redis, namespace: NAMESPACE, cacheName: 'tc-prime' }),
  policy: POLICY,
})

/** @type {Hono<{ Bindings: Env }>} */
const hono = new Hono()
hono.get('/hono/*', honoCache({ cacheName: 'hono-l1', cacheControl: 'max-age=3600', wait: false }), (c) => origin(c.req.raw, c.env, 0))

/**
 * The request's ctx, counting waitUntil work until it settles (the driver waits for 0 between slices).
 * @param {Context} ctx
 * @returns {any} what withCache and Hono take as the ExecutionContext
 */
function tracked(ctx) {
  return {
    /** @param {Promise<unknown>} promise */
    waitUntil(promise) {
      pending++
      ctx.waitUntil(
        Promise.resolve(promise).finally(() => {
          pending--
        }),
      )
    },
    passThroughOnException: () => ctx.passThroughOnException(),
    props: ctx.props,
  }
}

export default {
  /**
   * @param {Request} request
   * @param {Env} env
   * @param {Context} ctx
   */
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url)
    const context = tracked(ctx)
    if (pathname.startsWith('/tc/')) {
      return (request.headers.has('x-bench-prime') ? primer : measured)(request, env, context)
    }
    if (pathname.startsWith('/direct/')) return origin(request, env, latencyOf(request))
    if (pathname.startsWith('/hono/')) return hono.fetch(request, env, context)
    if (pathname === '/__bench/stats') return Response.json({ originCalls, pending })
    return new Response('not found', { status: 404 })
  },
}
