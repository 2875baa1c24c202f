// The options withCache and the Hono tiercache() middleware share, and how a request reaches the origin (types only).
import type { Cache, Duration, Policy } from '@tiercache/core'
import type { CacheTagOptions, HeaderScope } from './cdn-headers.js'

/** The part of a Worker's ExecutionContext tiercache uses. */
export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void
}

/** Options shared by `withCache` and the Hono `tiercache` middleware. */
export interface ResponseCacheOptions<Env = unknown> {
  /**
   * The cache, or a factory of it from the Worker's env, called once per isolate (the first request's env):
   * a cache lives per isolate, each request gets a view of it whose background work goes to its `ctx.waitUntil`.
   */
  cache: Cache | ((env: Env, ctx: ExecutionContextLike | undefined) => Cache)
  /**
   * How long responses live: one policy, or one per request; undefined passes the request through uncached
   * (`Cache-Status: tiercache; fwd=bypass`). Lifetimes come from here, not from the origin's Cache-Control.
   * `'origin'`: lifetimes come from the origin's response, as an RFC 9111 shared cache (CDN-Cache-Control, then
   * s-maxage, max-age, Expires; Age; stale-while-revalidate / stale-if-error), and its caching headers are served
   * unchanged with a correct Age.
   */
  policy?: Policy | 'origin' | ((request: Request, env: Env) => Policy | 'origin' | undefined)
  /**
   * Request headers the cache key includes (case-insensitive). A response whose Vary names other headers
   * (Accept-Encoding excepted: the runtime encodes per client) is stored as a variant selected by them (learned
   * Vary, one more lookup); `Vary: *` is passed through unstored. @default []
   */
  vary?: readonly string[]
  /** Lifetime of 404 and 410 responses (no swr, no stale-if-error). @default the policy's negativeTtl when set, else 404/410 are not stored */
  negativeTtl?: Duration
  /**
   * Which HTTP caches outside tiercache may keep the answers, for every request or per request (route):
   * `'all'` (browsers and shared caches), `'browser'` (`private`), `'shared'` (CDN and Workers Cache only: browsers
   * revalidate every use) or `'tiers'` (`no-store`: tiercache's own tiers only). See outwardHeaders. @default 'all'
   */
  scope?: HeaderScope | ((request: Request) => HeaderScope)
  /** Also emit CDN-Cache-Control (RFC 9213) for Cloudflare and other CDNs. @default true */
  cdn?: boolean
  /** Also emit Cloudflare-CDN-Cache-Control (read by Cloudflare and Workers Cache only, never forwarded). @default true */
  cloudflare?: boolean
  /** Write the policy's tags into Cache-Tag (shared scopes), for purges by tag (invalidateEverywhere). @default true */
  cacheTag?: boolean
  /** Also write the tags into Surrogate-Key, space-separated (Fastly-style CDNs). @default false */
  surrogateKey?: boolean
  /**
   * Tag every stored response with its URL and the whole-segment prefixes of its path (internal tags, never written to
   * Cache-Tag), so that `invalidateEverywhere(cache, { urls, pathPrefixes })` reaches tiercache's tiers in every
   * isolate and data centre, every variant included. Costs up to 18 more tags per response (each checked against the
   * coordinator like the policy's). @default false
   */
  urlTags?: boolean
  /** How tags are written into Cache-Tag: unsafe ones hashed (default) or rejected. See cdnTag. */
  tagOptions?: CacheTagOptions
  /** A shorter max-age for browsers; shared caches keep the policy's ttl through s-maxage. @default the policy's ttl */
  browserTtl?: Duration
  /**
   * Cache requests that carry Authorization (the response must not depend on it). Origin mode, when not set: as
   * RFC 9111 §3.5, the answer to such a request is stored only when it says `public`, `s-maxage` or
   * `must-revalidate`. @default false
   */
  allowAuthorization?: boolean
  /**
   * Cache requests that carry Cookie (the response must not depend on it). Origin mode, when not set: yes, as an
   * RFC 9111 shared cache (the origin says `private` or `Vary: Cookie` when its answer depends on the cookie).
   * @default false (origin mode: true)
   */
  allowCookie?: boolean
  /**
   * Origin mode: read `Surrogate-Control` (Edge Architecture Specification 1.0) as this cache's own directives when
   * the response has no CDN-Cache-Control: the directives targeted at `statusName` (`max-age=60;tiercache`), else the
   * untargeted ones, replace Cache-Control and Expires; requests to the origin carry
   * `Surrogate-Capability: <statusName>="Surrogate/1.0"`. @default true
   */
  surrogateControl?: boolean
  /**
   * Requests carrying a header the cache key ignores but an origin may reflect into its answer (X-Forwarded-Host,
   * X-Forwarded-Proto, X-Original-URL, X-Rewrite-URL, X-HTTP-Method-Override, ...: `unkeyedHeaderNames`), which
   * would then be served to everyone (web cache poisoning). `'strip'`: a request whose answer may be stored reaches
   * the origin without them. `'bypass'`: such a request passes through uncached (`Cache-Status: ...; fwd=bypass;
   * detail=unkeyed-header`; note that Cloudflare adds X-Forwarded-Proto to every request). `'allow'`: left alone, for
   * an origin that never reads them. Headers named in `vary` are part of the key and never affected.
   * @default 'strip'
   */
  unkeyedHeaders?: 'strip' | 'bypass' | 'allow'
  /** The headers `unkeyedHeaders` is about (case-insensitive), replacing the default list. @default UNKEYED_HEADERS */
  unkeyedHeaderNames?: readonly string[]
  /** Largest body stored, in bytes; larger responses pass through. @default 524288 (512 KiB) */
  maxBodySize?: number
  /** Prefixed to every response key, keeping them apart from data keys of the same cache. @default 'res:' */
  keyPrefix?: string
  /** This cache's name in Cache-Status (RFC 9211). @default 'tiercache' */
  statusName?: string
  /** Clock for Age and remaining lifetimes, in epoch ms; give it the cache's clock. @default Date.now */
  now?: () => number
  /**
   * Origin mode: how long a response with a validator (ETag, Last-Modified) is kept after its fresh and
   * stale-while-revalidate windows. It is never served unrevalidated then (beyond the origin's stale-if-error): the
   * next request sends its validators, and a 304 freshens it without the body (RFC 9111 §4.3.4). @default '1h'
   */
  keepForRevalidation?: Duration
}

/** How one request reaches the origin: the wrapped handler, or the rest of a middleware chain. */
export interface Origin<Env> {
  env: Env
  ctx: ExecutionContextLike | undefined
  /** Calls the origin. `background`: a refresh after the client was answered (stale-while-revalidate). */
  fetch(request: Request, background: boolean): Promise<Response>
  /** Whether the origin can be called in the background; if not, swr is served as stale-if-error instead. */
  refreshInBackground: boolean
}
