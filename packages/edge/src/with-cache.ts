import { ResponseCache } from './response-cache.js'
import type { ExecutionContextLike, ResponseCacheOptions } from './response-options.js'
import { typeOf } from '@tiercache/core/kit'

/**
 * A module Worker's fetch handler (the shape of `ExportedHandler<Env>['fetch']`), declared on the global `Request`
 * and on the part of the ExecutionContext tiercache needs, so that it type-checks without Cloudflare's types.
 * Its parameters are checked bivariantly (a method's), so a handler written for workers-types' narrower
 * `Request<unknown, IncomingRequestCfProperties>` and full `ExecutionContext` fits (so does a Hono app's
 * `fetch`, whose context is optional): in a Worker the runtime passes exactly those.
 */
export type FetchHandler<Env = unknown> = {
  handle(request: Request, env: Env, ctx: ExecutionContextLike | undefined): Response | Promise<Response>
}['handle']

/** The fetch function withCache returns: it takes any Request (it needs no `cf`), so it fits every handler slot. */
export type CachedFetchHandler<Env = unknown> = (request: Request, env: Env, ctx: ExecutionContextLike) => Promise<Response>

/** Options of withCache: see ResponseCacheOptions; `policy` is required. */
export interface WithCacheOptions<Env = unknown> extends ResponseCacheOptions<Env> {
  policy: NonNullable<ResponseCacheOptions<Env>['policy']>
}

/**
 * Wraps a module Worker's `fetch(request, env, ctx)` so that GET and HEAD responses are answered from the cache.
 *
 * - Key: `GET <url>` plus the request headers named in `options.vary`, and those a response's Vary names (learned
 *   variants); HEAD is answered from the GET entry.
 * - Miss: the origin (the wrapped handler) is called with a GET stripped of the client's conditional and range
 *   fields; a storable answer is kept whole (status, headers, body) under the policy.
 * - Stale within `swr`: answered at once and refreshed through `ctx.waitUntil`. Origin 5xx or exception:
 *   stale-if-error answers when the policy allows; otherwise the origin's own answer, uncached.
 * - 404/410 are kept for `negativeTtl` only. Never stored: Set-Cookie, `private`, `no-store`, `no-cache`,
 *   `Vary: *`, 206, event streams, over-large bodies; requests with Authorization
 *   or Cookie pass through unless allowed.
 * - Every answer carries Cache-Status (RFC 9211), e.g. `tiercache; hit; ttl=42; detail=L1` (the tier that
 *   answered) or `tiercache; fwd=miss; stored`; cached answers carry Cache-Control, CDN-Cache-Control and Age
 *   computed from the entry, and 304 for a matching If-None-Match / If-Modified-Since.
 *
 * Accepts a fetch function or a handler object (such as a Hono app) and returns the same shape.
 *
 * @example
 * export default withCache(app, {
 *   cache: (env) => createEdgeCache(env, { Redis }),
 *   policy: (req) => (new URL(req.url).pathname.startsWith('/api/') ? { ttl: '30s', swr: '5m', staleIfError: '1h' } : undefined),
 * })
 */
export function withCache<Env = unknown>(handler: FetchHandler<Env>, options: WithCacheOptions<Env>): CachedFetchHandler<Env>
export function withCache<Env, H extends { fetch?: FetchHandler<Env> | undefined }>(handler: H, options: WithCacheOptions<Env>): H
export function withCache<Env>(
  handler: FetchHandler<Env> | { fetch?: FetchHandler<Env> | undefined },
  options: WithCacheOptions<Env>,
): CachedFetchHandler<Env> | { fetch?: FetchHandler<Env> | undefined } {
  const inner = typeof handler === 'function' ? handler : handler?.fetch?.bind(handler)
  if (typeof inner !== 'function') {
    throw new TypeError(`withCache(handler) needs a fetch function or an object with fetch, got ${typeOf(handler)}`)
  }
  const responses = new ResponseCache<Env>(options, 'withCache(handler, options)', true)
  const fetch: CachedFetchHandler<Env> = function withCache(request, env, ctx) {
    const context: ExecutionContextLike | undefined = typeof ctx?.waitUntil === 'function' ? ctx : undefined
    return responses.respond(request, {
      env,
      ctx: context,
      // The request keeps the incoming request's `cf` (new Request(request, init) copies it).
      fetch: async (req) => inner(req as Request<unknown, IncomingRequestCfProperties>, env, ctx),
      refreshInBackground: true,
    })
  }
  return typeof handler === 'function' ? fetch : { ...handler, fetch }
}
