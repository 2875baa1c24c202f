import { parseHttpDate } from './date.js'
import type { HeadersLike } from './headers.js'

/**
 * The freshness lifetime an Expires field gives (RFC 9111 §4.2.1), in ms: Expires minus Date, never below 0. An
 * invalid Expires (such as "0") means already expired (§5.3): 0. A missing or invalid Date counts as `responseTime`.
 * undefined when the response has no Expires field. Whether Expires applies at all (max-age and s-maxage take
 * precedence) is the caller's rule.
 *
 * @example
 * expiresLifetime(new Headers({ date: 'Fri, 04 Dec 2026 12:00:00 GMT', expires: 'Fri, 04 Dec 2026 12:05:00 GMT' }), now) // 300_000
 */
export function expiresLifetime(headers: HeadersLike, responseTime: number): number | undefined {
  const expires = headers.get('expires')
  if (expires === null) return undefined
  const expiresAt = parseHttpDate(expires, responseTime)
  if (expiresAt === undefined) return 0
  const date = parseHttpDate(headers.get('date'), responseTime) ?? responseTime
  return Math.max(0, expiresAt - date)
}
