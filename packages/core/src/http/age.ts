import { parseAge } from './cache-control.js'
import { parseHttpDate } from './date.js'
import type { HeadersLike } from './headers.js'

/**
 * corrected_initial_age (RFC 9111 §4.2.3) in ms: max(apparent_age, age_value + response_delay), where apparent_age
 * is max(0, response_time - date_value) with response_time in whole seconds as Date is, and response_delay is response_time - request_time. A missing or invalid
 * Date counts as the response time (apparent_age 0). NaN when Age is invalid (`parseAge`): a response whose age
 * cannot be known is not to be trusted fresh (the HTTP cache tests and Firefox treat it as stale on arrival).
 *
 * @example
 * correctedInitialAge(new Headers({ age: '10' }), sentAt, sentAt + 2_000) // 12_000
 */
export function correctedInitialAge(headers: HeadersLike, requestTime: number, responseTime: number): number {
  const age = parseAge(headers.get('age'))
  if (age !== undefined && Number.isNaN(age)) return Number.NaN
  const date = parseHttpDate(headers.get('date'), responseTime)
  // Date has whole seconds: it is compared with the clock at that resolution (as caches with second clocks do), so
  // a response dated 12:00:00 and received at 12:00:00.900 is not taken as 0.9 s old (a max-age=2 response lost up
  // to half its life that way); the response delay below still counts in full.
  const apparent = date === undefined ? 0 : Math.max(0, Math.floor(responseTime / 1000) * 1000 - date)
  return Math.max(apparent, (age ?? 0) * 1000 + Math.max(0, responseTime - requestTime))
}
