import CachePolicy from 'http-cache-semantics'
import { describe, expect, it } from 'vitest'
import { cacheControl, cacheHeaders, formatCacheStatus, type CacheControlOptions } from './cache-control.js'
import { createEntry } from './entry.js'
import { resolvePolicy, type Policy } from './policy.js'

/** Judges our headers with an independent RFC 9111 implementation: what a browser (private) or CDN (shared) would do. */
function judge(headers: Record<string, string>, shared: boolean, now: number): CachePolicy {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  // Its clock is read in the constructor, so it is overridden on a subclass.
  class JudgeAt extends CachePolicy {
    override now(): number {
      return now
    }
  }
  return new JudgeAt(
    { url: '/api/products/1', method: 'GET', headers: {} },
    { status: 200, headers: { date: new Date(now).toUTCString(), ...lower } },
    { shared },
  )
}

/** Seconds a judge may serve the response as fresh from now on. */
function freshFor(policy: CachePolicy): number {
  return policy.maxAge() - policy.age()
}

describe('cacheControl', () => {
  it.each([
    [{ ttl: '5m' }, {}, 'public, max-age=300'],
    [{ ttl: '5m', swr: '1m' }, {}, 'public, max-age=300, stale-while-revalidate=60'],
    [{ ttl: '5m', swr: '1m', staleIfError: '1d' }, {}, 'public, max-age=300, stale-while-revalidate=60, stale-if-error=86400'],
    [{ ttl: '5m' }, { scope: 'private' as const }, 'private, max-age=300'],
    [{ ttl: '1h', swr: '1m' }, { browserTtl: '1m' }, 'public, max-age=60, s-maxage=3600, stale-while-revalidate=60'],
    [{ ttl: '1h' }, { scope: 'private' as const, browserTtl: '1m' }, 'private, max-age=60'],
    [{ ttl: '5m', swr: '1m' }, { cdn: true }, 'max-age=300, stale-while-revalidate=60'],
    [{ ttl: '5m' }, { cdn: true, scope: 'private' as const }, 'no-store'],
    [{ ttl: 0 }, {}, 'public, no-cache'],
    [{ ttl: 0, swr: '30s' }, {}, 'public, max-age=0, stale-while-revalidate=30'],
    [{ ttl: 1999 }, {}, 'public, max-age=1'],
    // RFC 9111 §1.2.2: never more than 2^31 seconds, always digits (1e24 ms would print as 1e+21 s).
    [{ ttl: 1e24, swr: 1e24, staleIfError: `${'9'.repeat(30)}d` }, {}, 'public, max-age=2147483648, stale-while-revalidate=2147483648, stale-if-error=2147483648'],
    [{ ttl: 2_147_483_648_000 }, { cdn: true }, 'max-age=2147483648'],
    [{ ttl: 2_147_483_649_999 }, {}, 'public, max-age=2147483648'],
    [{ ttl: '100000d' }, { browserTtl: 1e30 }, 'public, max-age=2147483648'],
  ])('%j %j -> %s', (policy, options, expected) => {
    expect(cacheControl(policy as Policy, options as CacheControlOptions)).toBe(expected)
  })

  it('speaks seconds, never milliseconds or absolute times', () => {
    const value = cacheControl({ ttl: 86_400_000, swr: 3_600_000 })
    for (const n of value.match(/\d+/g) ?? []) expect(Number(n)).toBeLessThanOrEqual(86_400)
  })

  it('never lets a private response reach a shared cache', () => {
    for (const policy of [{ ttl: '1h' }, { ttl: '1h', swr: '1m', staleIfError: '1d' }] as Policy[]) {
      const value = cacheControl(policy, { scope: 'private', browserTtl: '1m' })
      expect(value).not.toMatch(/public|s-maxage/)
      expect(judge({ 'Cache-Control': value }, true, Date.now()).storable()).toBe(false)
      expect(judge({ 'Cache-Control': value }, false, Date.now()).storable()).toBe(true)
    }
  })

  it('validates its options', () => {
    expect(() => cacheControl({ ttl: '1m' }, { scope: 'shared' as never })).toThrow(/options\.scope must be 'public' or 'private'/)
    expect(() => cacheControl({ ttl: '-1m' })).toThrow(/policy\.ttl must be a duration/)
    expect(() => cacheControl({ ttl: '1m' }, { browserTtl: -1 })).toThrow(/options\.browserTtl must not be negative/)
  })
})

describe('cacheHeaders, judged by http-cache-semantics', () => {
  const policy = resolvePolicy({ ttl: '5m', swr: '1m', staleIfError: '1h' }, undefined, 'policy', '')
  const createdAt = Date.UTC(2026, 10, 22, 12, 0, 0)
  const entry = createEntry({ id: 1 }, policy, createdAt, 40, Math.random)

  it.each([0, 1, 999, 1_000, 42_500, 299_000, 299_999])('at %d ms of age a shared cache keeps it no longer than the entry has left', (ageMs) => {
    const now = createdAt + ageMs
    const headers = cacheHeaders(entry, { now, cdn: true })
    const remaining = (entry.freshUntil - now) / 1000
    for (const shared of [true, false]) {
      const fresh = freshFor(judge(headers, shared, now))
      expect(fresh).toBeLessThanOrEqual(remaining)
      expect(fresh).toBeGreaterThan(remaining - 2)
    }
  })

  it('marks a stale entry stale, still usable within its swr window, and tells how much', () => {
    const now = entry.freshUntil + 30_000
    const judged = judge(cacheHeaders(entry, { now }), true, now)
    expect(judged.stale()).toBe(true)
    expect(judged.useStaleWhileRevalidate()).toBe(true)
    const afterSwr = entry.staleUntil + 1_000
    expect(judge(cacheHeaders(entry, { now: afterSwr }), true, afterSwr).useStaleWhileRevalidate()).toBe(false)
  })

  it('uses the entry own lifetime, jitter included', () => {
    const jittered = createEntry('v', resolvePolicy({ ttl: '100s', jitter: 0.5 }, undefined, 'policy', ''), createdAt, 1, () => 0.5)
    expect(cacheHeaders(jittered, { now: createdAt })['Cache-Control']).toBe('public, max-age=75')
  })

  it('gives a negative entry its negative lifetime', () => {
    const negative = createEntry(null, resolvePolicy({ ttl: '1h', negativeTtl: '30s' }, undefined, 'policy', ''), createdAt, 1, Math.random)
    expect(cacheHeaders(negative, { now: createdAt + 10_000 })).toEqual({ 'Cache-Control': 'public, max-age=30', Age: '10' })
  })

  it('emits CDN-Cache-Control only for public responses', () => {
    expect(cacheHeaders(policy, { cdn: true })).toEqual({
      'Cache-Control': 'public, max-age=300, stale-while-revalidate=60, stale-if-error=3600',
      'CDN-Cache-Control': 'max-age=300, stale-while-revalidate=60, stale-if-error=3600',
    })
    expect(cacheHeaders(policy, { cdn: true, scope: 'private' })['CDN-Cache-Control']).toBeUndefined()
  })

  it('reports the tier and the remaining freshness in Cache-Status', () => {
    const now = createdAt + 100_000
    expect(cacheHeaders(entry, { now, status: { hit: true, detail: 'L1' } })['Cache-Status']).toBe('tiercache; hit; ttl=200; detail=L1')
    const stale = entry.freshUntil + 5_000
    expect(cacheHeaders(entry, { now: stale, status: { hit: true, detail: 'L2' } })['Cache-Status']).toBe('tiercache; hit; ttl=-5; detail=L2')
    expect(cacheHeaders(policy, { status: { hit: false, fwd: 'miss', stored: true, collapsed: true } })['Cache-Status']).toBe('tiercache; fwd=miss; stored; collapsed')
  })

  it('accepts a raw policy as well as a resolved one', () => {
    expect(cacheHeaders({ ttl: '1m' })['Cache-Control']).toBe('public, max-age=60')
  })

  it('caps every lifetime, Age and Cache-Status ttl at 2^31 seconds, digits only (RFC 9111 §1.2.2)', () => {
    const forever = createEntry('v', resolvePolicy({ ttl: 1e24, swr: 1e24 }, undefined, 'policy', ''), 0, 0, Math.random)
    const headers = cacheHeaders(forever, { now: 1e15, cdn: true, status: { hit: true } })
    expect(headers).toEqual({
      'Cache-Control': 'public, max-age=2147483648, stale-while-revalidate=2147483648',
      'CDN-Cache-Control': 'max-age=2147483648, stale-while-revalidate=2147483648',
      Age: '2147483648',
      'Cache-Status': 'tiercache; hit; ttl=2147483648',
    })
    for (const value of Object.values(headers)) expect(value).not.toMatch(/e\+|\./)
    expect(formatCacheStatus({ hit: true, ttl: -1e30 })).toBe('tiercache; hit; ttl=-2147483648')
  })
})

describe('formatCacheStatus', () => {
  it('quotes a detail that is not a token and rejects a bad cache name', () => {
    expect(formatCacheStatus({ hit: true, detail: 'edge L1' })).toBe('tiercache; hit; detail="edge L1"')
    expect(formatCacheStatus({ hit: false, fwd: 'bypass' }, 'my-cdn')).toBe('my-cdn; fwd=bypass')
    expect(() => formatCacheStatus({ hit: true }, 'bad name')).toThrow(/cacheName must be an RFC 8941 token/)
  })

  it('checks every parameter it emits against its grammar: nothing can break out of the field or the member', () => {
    // fwd: only the forward reasons RFC 9211 registers.
    for (const fwd of ['bypass', 'method', 'uri-miss', 'vary-miss', 'miss', 'request', 'stale', 'partial'] as const) {
      expect(formatCacheStatus({ hit: false, fwd })).toBe(`tiercache; fwd=${fwd}`)
    }
    for (const fwd of ['miss\r\nSet-Cookie: a=b', 'miss; stored', 'miss, evil', 'MISS', '']) {
      expect(() => formatCacheStatus({ hit: false, fwd: fwd as 'miss' })).toThrow(/status\.fwd must be one of/)
    }
    // detail: a token as is, printable ASCII as a quoted string with \ and " escaped, anything else refused.
    expect(formatCacheStatus({ hit: true, detail: 'L2/stale-if-error' })).toBe('tiercache; hit; detail=L2/stale-if-error')
    expect(formatCacheStatus({ hit: true, detail: 'say "hi" \\ bye' })).toBe('tiercache; hit; detail="say \\"hi\\" \\\\ bye"')
    for (const detail of ['L1\r\nSet-Cookie: a=b', 'L1\n', 'tab\there', 'caf\u00e9', '\u2028']) {
      expect(() => formatCacheStatus({ hit: true, detail })).toThrow(/status\.detail must be printable ASCII/)
    }
    // ttl: a number (NaN refused), emitted as an integer within 2^31 s.
    expect(formatCacheStatus({ hit: true, ttl: 12.9 })).toBe('tiercache; hit; ttl=12')
    expect(() => formatCacheStatus({ hit: true, ttl: Number.NaN })).toThrow(/status\.ttl/)
    expect(() => formatCacheStatus({ hit: true, ttl: '5\r\n' as unknown as number })).toThrow(/status\.ttl/)
    expect(() => formatCacheStatus(null as never)).toThrow(TypeError)
    // fwd-status (§2.3): the origin's status code, with fwd only.
    expect(formatCacheStatus({ hit: false, fwd: 'stale', fwdStatus: 304, stored: true })).toBe('tiercache; fwd=stale; fwd-status=304; stored')
    expect(formatCacheStatus({ hit: true, fwdStatus: 200 })).toBe('tiercache; hit')
    for (const fwdStatus of [99, 600, 200.5, Number.NaN, '200\r\n' as unknown as number]) {
      expect(() => formatCacheStatus({ hit: false, fwd: 'miss', fwdStatus })).toThrow(/status\.fwdStatus must be a status code \(100-599\)/)
    }
    // What the function returns is always a valid header value: printable ASCII, no CR or LF.
    expect(formatCacheStatus({ hit: false, fwd: 'miss', stored: true, collapsed: true, ttl: 5, detail: 'a b' })).toMatch(/^[\x20-\x7e]+$/)
  })
})
