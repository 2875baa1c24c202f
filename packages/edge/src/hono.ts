// @tiercache/edge/hono: response caching middleware and data caching for Hono routes.
import type { Cache, Loader, Policy } from '@tiercache/core'
import type { Context, Env as HonoEnv, MiddlewareHandler } from 'hono'
import { withWorkersCache } from './purge.js'
import { ResponseCache } from './response-cache.js'
import type { ExecutionContextLike, ResponseCacheOptions } from './response-options.js'
import { typeOf } from '@tiercache/core/kit'

/** The variables tiercache() sets: type your app with them, `new Hono<{ Variables: TiercacheVariables }>()`. */
export interface TiercacheVariables {
  /**
   * This request's view of the cache: its background work goes to the request's `executionCtx.waitUntil`, and its
   * `invalidateTags` also reaches Workers Cache (`executionCtx.cache`) when the runtime has it.
   */
  cache: Cache
}

/** Something that answers requests like a Hono app: used to run a route again for background refreshes. */
export interface FetchApp {
  fetch(request: Request, env?: unknown, executionCtx?: ExecutionContextLike): Response | Promise<Response>
}

/** Options of the tiercache() middleware: those of withCache, plus `app`. Without `policy`, only `c.var.cache` is set. */
export interface TiercacheOptions<Env = unknown> extends ResponseCacheOptions<Env> {
  /**
   * The Hono app this middleware is mounted on. Hono runs a route's handlers once per request (`next()` cannot
   * be called again after the response is sent), so a stale-while-revalidate refresh runs the request through
   * the app again, marked so that this middleware lets it through uncached. Without `app`, responses within
   * `swr` are not served stale: the request revalidates in the foreground and `swr` acts as stale-if-error.
   */
  app?: FetchApp
}

/**
 * The bindings of a Hono env: `E['Bindings']`, or `object` when it has none. The middleware's own `Bindings`
 * parameter defaults to it (`tiercache<{ Bindings: Env }>(...)`) and is otherwise inferred from a typed
 * `cache: (env: Env) => Cache`, so the middleware fits `new Hono<{ Bindings: Env }>()` under `strict` and
 * `exactOptionalPropertyTypes`.
 */
export type BindingsOf<E extends HonoEnv> = E['Bindings'] extends object ? E['Bindings'] : object

/** Requests this middleware sent through the app itself to refresh an entry: let through to the handler. */
const refreshes = new WeakSet<Request>()

/**
 * Hono middleware: caches the responses of the routes it covers like withCache (keys, Vary, swr through
 * waitUntil, stale-if-error, negative caching, Cache-Control / CDN-Cache-Control / Age / Cache-Status, 304s),
 * and exposes the cache to handlers as `c.var.cache`.
 *
 * @example
 * const app = new Hono<{ Bindings: Env; Variables: TiercacheVariables }>()
 * app.use('/api/*', tiercache({ app, cache: (env) => createEdgeCache(env, { Redis }), policy: { ttl: '30s', swr: '5m' } }))
 * app.get('/api/user/:id', async (c) => c.json(await cached(c, `user:${c.req.param('id')}`, () => loadUser(c.req.param('id')), { ttl: '1m' })))
 */
export function tiercache<E extends HonoEnv = HonoEnv, Bindings extends object = BindingsOf<E>>(
  options: TiercacheOptions<Bindings>,
): MiddlewareHandler<{ Bindings: Bindings; Variables: TiercacheVariables }> {
  const responses = new ResponseCache<Bindings>(options, 'tiercache(options)', false)
  const { app } = options
  if (app !== undefined && (typeof app !== 'object' || app === null || typeof app.fetch !== 'function')) {
    throw new TypeError(`options.app must be the Hono app (something with fetch), got ${typeOf(app)}`)
  }
  const cachesResponses = options.policy !== undefined
  return async function tiercache(c, next) {
    const ctx = executionCtxOf(c)
    // invalidateTags on this view also purges (hard) or invalidates (soft) the tags in Workers Cache (ctx.cache).
    c.set('cache', withWorkersCache(responses.viewFor(c.env, ctx), { ctx, tagOptions: responses.tagOptions }))
    if (!cachesResponses || refreshes.has(c.req.raw)) {
      await next()
      return
    }
    let nextCalled = false
    const response = await responses.respond(c.req.raw, {
      env: c.env,
      ctx,
      refreshInBackground: app !== undefined,
      fetch: async (request, background) => {
        if (!background && !nextCalled) {
          nextCalled = true
          // The rest of the chain runs once, on the request the cache asks for: a fill is a GET without the
          // client's conditional fields (also for a HEAD), and none of them carries a stripped unkeyed header.
          const raw = c.req.raw
          c.req.raw = request
          try {
            await next()
          } finally {
            c.req.raw = raw
          }
          return c.res
        }
        if (app === undefined) throw new Error('tiercache: refreshing a Hono route in the background needs options.app')
        const refresh = new Request(request)
        refreshes.add(refresh)
        return app.fetch(refresh, c.env, ctx as ExecutionContext | undefined)
      },
    })
    // Replace, not merge: Hono's res setter would copy the origin response's headers over the cache's.
    c.res = undefined
    c.res = response
  }
}

/**
 * Data caching inside a Hono handler: `c.var.cache.getOrSet(key, loader, policy)` with the request's
 * `executionCtx.waitUntil` for background work when there is one (outside Workers there is none).
 * Needs tiercache() on the route.
 *
 * @example
 * app.get('/api/price/:sku', async (c) => c.json(await cached(c, `price:${c.req.param('sku')}`, () => fetchPrice(c.req.param('sku')), { ttl: '10s' })))
 */
export function cached<V>(c: Context, key: string, loader: Loader<V>, policy?: Partial<Policy>): Promise<V | null> {
  const cache = c.get('cache') as Cache | undefined
  if (cache === undefined || typeof cache.getOrSet !== 'function') {
    throw new TypeError('cached(c, ...) needs the tiercache() middleware on this route: c.var.cache is not set')
  }
  const ctx = executionCtxOf(c)
  const view = ctx === undefined ? cache : cache.withContext({ waitUntil: (promise) => ctx.waitUntil(promise) })
  return view.getOrSet(key, loader, policy)
}

/** c.executionCtx, or undefined where Hono has none (it throws outside Workers-like runtimes). */
function executionCtxOf(c: Context): ExecutionContextLike | undefined {
  try {
    const ctx = c.executionCtx as ExecutionContextLike | undefined
    return typeof ctx?.waitUntil === 'function' ? ctx : undefined
  } catch {
    return undefined
  }
}
