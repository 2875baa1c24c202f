// Cloudflare's zone purge-by-tag API, for the CDN cache in front of a zone (Workers Cache is purged through
// ctx.cache instead): batched within the per-request tag limit, spaced by a minimum interval, 429s retried after
// Retry-After, failures reported, never thrown.
import { parseDuration, type Duration } from '@tiercache/core'
import { assertOptions, optionalFunction, optionalInteger, optionalString, sleep, typeOf } from '@tiercache/core/kit'

/** Options of zonePurger. */
export interface ZonePurgerOptions {
  /** The zone's id (Cloudflare dashboard, Overview). */
  zoneId: string
  /** An API token with the Cache Purge permission on the zone. */
  apiToken: string
  /** The API's base URL. @default 'https://api.cloudflare.com/client/v4' */
  endpoint?: string
  /** Most tags in one purge request. @default 30 */
  maxTagsPerRequest?: number
  /** Least time between two purge requests of this purger (Cloudflare rate-limits purges per zone). @default 0 */
  minInterval?: Duration
  /** Retries of a request answered 429, each after its Retry-After (at most maxRetryWait). @default 2 */
  maxRetries?: number
  /** Longest wait for a Retry-After or minInterval before a request; longer ones fail the batch instead. @default '5s' */
  maxRetryWait?: Duration
  /** The fetch to call the API with. @default globalThis.fetch */
  fetch?: (input: string, init: RequestInit) => Promise<Response>
  /** Told about each request: sent, retried after a 429, failed. */
  onEvent?: (event: ZonePurgeEvent) => void
}

/** One purge request's outcome: `tags` holds the batch's tags, or its URLs for purgeUrls. */
export type ZonePurgeEvent =
  | { type: 'purged'; tags: string[]; attempt: number }
  | { type: 'rate-limited'; tags: string[]; attempt: number; retryAfterMs: number }
  | { type: 'failed'; tags: string[]; attempt: number; status?: number; error: string }

/** What one purgeTags call did. */
export interface ZonePurgeReport {
  ok: boolean
  requests: number
  /** Tags (or URLs) whose batch failed (after retries). */
  failed: string[]
}

/** Purges tags (and URLs) from a zone's CDN cache. */
export interface ZonePurger {
  purgeTags(tags: readonly string[]): Promise<ZonePurgeReport>
  /** Purges single URLs (`files`, every plan), batched like tags. */
  purgeUrls?(urls: readonly string[]): Promise<ZonePurgeReport>
}

/**
 * A purger of a zone's CDN cache by Cache-Tag through Cloudflare's API (`POST /zones/:id/purge_cache` with
 * `{ tags }`). Give it to invalidateEverywhere (`zone`), which sends the tags as Cache-Tag wrote them. Never throws
 * for a failed purge: the report and `onEvent` say what failed.
 *
 * @example
 * const zone = zonePurger({ zoneId: env.CF_ZONE_ID, apiToken: env.CF_PURGE_TOKEN, minInterval: '1s' })
 * await invalidateEverywhere(cache, ['products'], { ctx, zone })
 */
export function zonePurger(options: ZonePurgerOptions): ZonePurger {
  assertOptions(options, 'zonePurger(options)')
  for (const name of ['zoneId', 'apiToken'] as const) {
    if (typeof options[name] !== 'string' || options[name] === '') throw new TypeError(`options.${name} must be a non-empty string, got ${typeOf(options[name])}`)
  }
  if (!/^[A-Za-z0-9_-]+$/.test(options.zoneId)) throw new RangeError('options.zoneId must be letters, digits, _ and - (a zone id)')
  optionalString(options.endpoint, 'options.endpoint', undefined, 2048)
  optionalInteger(options.maxTagsPerRequest, 'options.maxTagsPerRequest', 1, 1000)
  optionalInteger(options.maxRetries, 'options.maxRetries', 0, 10)
  optionalFunction(options.fetch, 'options.fetch')
  optionalFunction(options.onEvent, 'options.onEvent')
  const endpoint = (options.endpoint ?? 'https://api.cloudflare.com/client/v4').replace(/\/+$/, '')
  const url = `${endpoint}/zones/${options.zoneId}/purge_cache`
  const perRequest = options.maxTagsPerRequest ?? 30
  const minInterval = options.minInterval === undefined ? 0 : parseDuration(options.minInterval, 'options.minInterval')
  const maxRetries = options.maxRetries ?? 2
  const maxWait = options.maxRetryWait === undefined ? 5000 : parseDuration(options.maxRetryWait, 'options.maxRetryWait')
  const fetcher = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init))
  const emit = (event: ZonePurgeEvent): void => {
    try {
      options.onEvent?.(event)
    } catch {
      // A listener's failure is not the purge's.
    }
  }
  // The earliest moment the next request may go: each call waits on its own timer, never on another request.
  let nextAt = 0

  async function send(tags: string[], field: 'tags' | 'files'): Promise<{ ok: boolean; requests: number }> {
    let requests = 0
    for (let attempt = 1; ; attempt++) {
      const wait = nextAt - Date.now()
      if (wait > maxWait) {
        emit({ type: 'failed', tags, attempt, error: `the rate limit asks for ${wait} ms, more than maxRetryWait` })
        return { ok: false, requests }
      }
      if (wait > 0) await sleep(wait)
      nextAt = Date.now() + minInterval
      requests++
      let response: Response
      try {
        response = await fetcher(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${options.apiToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ [field]: tags }),
        })
      } catch (error) {
        emit({ type: 'failed', tags, attempt, error: error instanceof Error ? error.message : String(error) })
        return { ok: false, requests }
      }
      if (response.status === 429 && attempt <= maxRetries) {
        const retryAfterMs = retryAfter(response.headers.get('retry-after'))
        await response.body?.cancel()
        emit({ type: 'rate-limited', tags, attempt, retryAfterMs })
        nextAt = Math.max(nextAt, Date.now() + retryAfterMs)
        continue
      }
      const body = (await response.json().catch(() => undefined)) as { success?: boolean; errors?: { code?: number; message?: string }[] } | undefined
      if (response.ok && body?.success === true) {
        emit({ type: 'purged', tags, attempt })
        return { ok: true, requests }
      }
      const detail = body?.errors?.map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ') || `HTTP ${response.status}`
      emit({ type: 'failed', tags, attempt, status: response.status, error: detail })
      return { ok: false, requests }
    }
  }

  async function purge(items: readonly string[], field: 'tags' | 'files'): Promise<ZonePurgeReport> {
    const report: ZonePurgeReport = { ok: true, requests: 0, failed: [] }
    // One batch after another: the interval spaces them, and a 429 slows the ones after it too.
    for (let i = 0; i < items.length; i += perRequest) {
      const batch = items.slice(i, i + perRequest)
      const sent = await send(batch, field)
      report.requests += sent.requests
      if (!sent.ok) {
        report.ok = false
        report.failed.push(...batch)
      }
    }
    return report
  }

  return {
    purgeTags(tags) {
      if (!Array.isArray(tags)) throw new TypeError(`tags must be an array of strings, got ${typeOf(tags)}`)
      return purge(tags, 'tags')
    },
    purgeUrls(urls) {
      if (!Array.isArray(urls)) throw new TypeError(`urls must be an array of strings, got ${typeOf(urls)}`)
      return purge(urls, 'files')
    },
  }
}

/** Retry-After in ms: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); 1 s when absent or unreadable. */
function retryAfter(value: string | null): number {
  if (value === null) return 1000
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const at = Date.parse(value)
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : 1000
}
