/** Where a response came from, nearest first. */
export type Tier = 'memory' | 'indexeddb' | 'browser' | 'edge-l1' | 'edge-l2' | 'edge' | 'origin' | 'error'

export interface AnsweredBy {
  tier: Tier
  /** Served past its fresh lifetime: within stale-while-revalidate, or standing in for a failed origin. */
  stale: 'swr' | 'error' | false
}

/** One member of a Cache-Status field (RFC 9211 §2): a cache name and its parameters. */
export interface CacheStatusMember {
  name: string
  params: Record<string, string | true>
}

/** The name the page's cached fetch uses in Cache-Status, so its member is told apart from the Worker's. */
export const BROWSER_CACHE_NAME = 'browser'

/**
 * Parses a Cache-Status field value, e.g. `edge; hit; ttl=8; detail=cache-api, browser; fwd=miss; detail=network`.
 * Enough of RFC 8941 for what caches put there: tokens, integers and quoted strings without commas.
 */
export function parseCacheStatus(value: string | null): CacheStatusMember[] {
  if (value === null || value.trim() === '') return []
  return value.split(',').map((member) => {
    const [name = '', ...params] = member.split(';').map((part) => part.trim())
    const parsed: Record<string, string | true> = {}
    for (const param of params) {
      const eq = param.indexOf('=')
      if (eq === -1) parsed[param] = true
      else parsed[param.slice(0, eq)] = param.slice(eq + 1).replace(/^"(.*)"$/, '$1')
    }
    return { name, params: parsed }
  })
}

/**
 * Which tier answered a response, read from its Cache-Status: the browser's member when a browser tier hit,
 * else the Worker's (`detail=L1` or `L2` for its tiers, `L2/stale-if-error` for that tier's stale copy standing in
 * for a failed origin, `fwd=miss` when the origin answered).
 */
export function answeredBy(status: number, cacheStatus: string | null): AnsweredBy {
  const members = parseCacheStatus(cacheStatus)
  const browser = members.find((m) => m.name === BROWSER_CACHE_NAME)
  if (browser !== undefined) {
    const { detail, ttl } = browser.params
    if (browser.params.hit === true && (detail === 'memory' || detail === 'indexeddb')) {
      return { tier: detail, stale: typeof ttl === 'string' && Number(ttl) < 0 ? 'swr' : false }
    }
    // The network failed and a stored copy (memory or IndexedDB) stood in for it.
    if (detail === 'stale-if-error') return { tier: 'browser', stale: 'error' }
  }
  const edge = members.filter((m) => m.name !== BROWSER_CACHE_NAME).at(-1)
  if (edge === undefined) return { tier: status >= 500 ? 'error' : 'origin', stale: false }
  if (edge.params.hit !== true) return { tier: status >= 500 ? 'error' : 'origin', stale: false }
  const { detail, ttl } = edge.params
  // `L2/stale-if-error`: that tier's stale copy stood in for a failed origin.
  const [tier, why] = typeof detail === 'string' ? detail.split('/') : []
  const stale = why === 'stale-if-error' || tier === 'stale-if-error' ? 'error' : typeof ttl === 'string' && Number(ttl) < 0 ? 'swr' : false
  // No detail: the request joined another one's load at the edge (collapsed).
  return { tier: tier === 'L1' ? 'edge-l1' : tier === 'L2' ? 'edge-l2' : 'edge', stale }
}
