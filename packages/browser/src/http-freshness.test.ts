import { describe, expect, it } from 'vitest'
import { parseCacheControl } from '@tiercache/core/http'
import { currentAge, freshnessLifetime, responseWindows } from './http-freshness.js'

const T = 1_700_000_000_000
const h = (fields: Record<string, string>): Headers => new Headers(fields)
const none = { ttl: 0, swr: 0, staleIfError: 0, given: false }

describe('freshnessLifetime (§4.2.1)', () => {
  const lifetime = (fields: Record<string, string>, status = 200) => freshnessLifetime(parseCacheControl(fields['cache-control'] ?? null), h(fields), status, T)?.ms

  it('prefers max-age, ignores s-maxage, then Expires minus Date', () => {
    expect(lifetime({ 'cache-control': 's-maxage=600, max-age=60' })).toBe(60_000)
    expect(lifetime({ 'cache-control': 's-maxage=600' })).toBeUndefined()
    expect(lifetime({ expires: new Date(T + 90_000).toUTCString(), date: new Date(T).toUTCString() })).toBe(90_000)
  })

  it('measures Expires from arrival when Date is missing, and reads invalid Expires as expired (§5.3)', () => {
    expect(lifetime({ expires: new Date(T + 30_000).toUTCString() })).toBe(30_000)
    expect(lifetime({ expires: '0' })).toBe(0)
    expect(lifetime({ 'cache-control': 'max-age=x' })).toBe(0)
    expect(lifetime({ 'cache-control': 'max-age=1, max-age=2' })).toBe(0)
    // Date.parse reads ISO dates and day-less dates; HTTP does not (RFC 9110 §5.6.7).
    expect(lifetime({ expires: new Date(T + 30_000).toISOString() })).toBe(0)
  })

  it('heuristic: 10% of Date - Last-Modified, at most a week, for heuristically cacheable statuses or public (§4.2.2)', () => {
    const date = new Date(T).toUTCString()
    expect(lifetime({ date, 'last-modified': new Date(T - 10 * 86_400_000).toUTCString() })).toBe(86_400_000)
    expect(lifetime({ date, 'last-modified': new Date(T - 1000 * 86_400_000).toUTCString() })).toBe(7 * 86_400_000)
    expect(lifetime({ date, 'last-modified': new Date(T - 10 * 86_400_000).toUTCString() }, 201)).toBeUndefined()
    expect(lifetime({ date, 'last-modified': new Date(T - 10 * 86_400_000).toUTCString(), 'cache-control': 'public' }, 599)).toBe(86_400_000)
    expect(lifetime({ date, 'last-modified': new Date(T + 60_000).toUTCString() })).toBeUndefined()
    expect(lifetime({ date })).toBeUndefined()
  })
})

describe('currentAge (§4.2.3)', () => {
  it('adds the time since the response arrived to its corrected initial age', () => {
    expect(currentAge(12_000, T, T + 8_000)).toBe(20_000)
  })
})

describe('responseWindows', () => {
  it('an invalid Age makes the response stale on arrival', () => {
    expect(responseWindows(h({ 'cache-control': 'max-age=3600', age: '-1' }), 200, T, T, none)).toMatchObject({ freshUntil: T, initialAge: 0 })
  })

  it('the policy wins over heuristic freshness; heuristics only without one', () => {
    const fields = { date: new Date(T).toUTCString(), 'last-modified': new Date(T - 100_000_000).toUTCString() }
    expect(responseWindows(h(fields), 200, T, T, none).freshUntil).toBe(T + 10_000_000)
    expect(responseWindows(h(fields), 200, T, T, { ttl: 5_000, swr: 0, staleIfError: 0, given: true }).freshUntil).toBe(T + 5_000)
  })

  it('starts the windows when the response was generated', () => {
    const w = responseWindows(h({ 'cache-control': 'max-age=60, stale-while-revalidate=30, stale-if-error=300', age: '20' }), 200, T, T, none)
    expect(w).toMatchObject({ freshUntil: T + 40_000, staleUntil: T + 70_000, errorUntil: T + 340_000, initialAge: 20_000, explicit: true })
  })

  it('falls back to the policy only when the response gives no freshness, header extensions still winning', () => {
    const fallback = { ttl: 10_000, swr: 5_000, staleIfError: 1_000, given: true }
    expect(responseWindows(h({}), 200, T, T, fallback)).toMatchObject({ freshUntil: T + 10_000, staleUntil: T + 15_000, errorUntil: T + 11_000, explicit: false })
    expect(responseWindows(h({ 'cache-control': 'stale-while-revalidate=60' }), 200, T, T, fallback)).toMatchObject({ staleUntil: T + 70_000 })
    expect(responseWindows(h({ 'cache-control': 'max-age=1' }), 200, T, T, fallback)).toMatchObject({ freshUntil: T + 1_000, staleUntil: T + 1_000, errorUntil: T + 1_000 })
  })

  it('no-cache and must-revalidate close every stale window', () => {
    expect(responseWindows(h({ 'cache-control': 'no-cache, max-age=60, stale-while-revalidate=9' }), 200, T, T, none)).toMatchObject({
      freshUntil: T,
      staleUntil: T,
      errorUntil: T,
      explicit: true,
    })
    expect(responseWindows(h({ 'cache-control': 'max-age=60, must-revalidate, stale-if-error=9' }), 200, T, T, none)).toMatchObject({ errorUntil: T + 60_000 })
  })

  it("ignores the shared-cache directives core's parser reports (s-maxage, private, proxy-revalidate: RFC 9111 §5.2.2)", () => {
    const shared = responseWindows(h({ 'cache-control': 'private, proxy-revalidate, s-maxage=5, max-age=60, stale-while-revalidate=30' }), 200, T, T, none)
    expect(shared.directives).toMatchObject({ private: true, proxyRevalidate: true, sMaxAge: 5 })
    expect(shared).toMatchObject({ freshUntil: T + 60_000, staleUntil: T + 90_000 })
  })
})
