// Origin mode's freshness arithmetic (RFC 9111 §4.2, RFC 9213, RFC 5861), inside workerd.
import { describe, expect, it } from 'vitest'
import { originVerdict, parseSharedDirectives } from '../../src/origin-freshness'

const now = Date.UTC(2026, 11, 3, 6, 0, 0)
const date = new Date(now).toUTCString()
const verdict = (headers: Record<string, string>, status = 200, sent = now, received = now) =>
  originVerdict(new Headers({ date, ...headers }), status, sent, received)

describe('originVerdict', () => {
  it.each([
    [{ 'cache-control': 'max-age=60' }, [60_000, 0, 0]],
    [{ 'cache-control': 'MaX-aGe=60, stale-while-revalidate=30, stale-if-error=600' }, [60_000, 30_000, 600_000]],
    [{ 'cache-control': 'max-age=1, s-maxage=60, stale-while-revalidate=30' }, [60_000, 0, 0]],
    [{ 'cache-control': 'max-age=60, must-revalidate, stale-if-error=600' }, [60_000, 0, 0]],
    [{ 'cache-control': 'max-age=60', age: '20' }, [40_000, 0, 0]],
    [{ expires: new Date(now + 90_000).toUTCString() }, [90_000, 0, 0]],
    [{ 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=30' }, [30_000, 0, 0]],
    [{ 'cache-control': 'max-age=60', 'cdn-cache-control': 'max-age=30', expires: 'Thu, 01 Jan 2099 00:00:00 GMT' }, [30_000, 0, 0]],
    [{ 'cache-control': 'foo="max-age=1", max-age=60' }, [60_000, 0, 0]],
    [{ 'cache-control': 'max-age=60, no-cache="set-cookie", private="x"' }, [60_000, 0, 0]],
    // RFC 9111 §5.2: recipients accept the quoted form of an argument too.
    [{ 'cache-control': 'max-age="60"' }, [60_000, 0, 0]],
    [{ 'cache-control': 'no-cache, max-age=60', etag: '"e"' }, [0, 0, 0]],
    [{ 'cache-control': 'max-age=60', age: '61', 'last-modified': 'Tue, 01 Dec 2026 00:00:00 GMT' }, [0, 0, 0]],
  ])('%j stores with windows %j', (headers, windows) => {
    expect(verdict(headers)).toMatchObject({ kind: 'store', windows })
  })

  it.each([
    [{ 'cache-control': 'max-age=60, no-store' }, 'no-store'],
    [{ 'cache-control': 'max-age=60', 'cdn-cache-control': 'no-store' }, 'no-store'],
    [{ 'cache-control': 'private, max-age=60' }, 'private'],
    [{ 'cache-control': 'max-age=60', 'cdn-cache-control': 'private' }, 'private'],
    [{ 'cache-control': 'no-cache, max-age=60' }, 'no-cache'],
    [{ 'last-modified': 'Tue, 01 Dec 2026 00:00:00 GMT' }, 'no-lifetime'],
    [{ 'cache-control': 'max-age=0' }, 'stale'],
    [{ 'cache-control': 'max-age=-1' }, 'stale'],
    [{ 'cache-control': 'max-age=60, max-age=120' }, 'stale'],
    [{ 'cache-control': 'max-age=60', age: '60' }, 'stale'],
    [{ 'cache-control': 'max-age=60', age: '1.5' }, 'age'],
    [{ 'cache-control': 'max-age=60', age: '-1' }, 'age'],
    [{ expires: '0' }, 'stale'],
    [{ expires: new Date(now - 1000).toUTCString() }, 'stale'],
    [{ 'cdn-cache-control': 'public', expires: 'Thu, 01 Jan 2099 00:00:00 GMT' }, 'no-lifetime'],
  ])('%j is not stored: %s', (headers, reason) => {
    expect(verdict(headers)).toEqual({ kind: 'pass', reason })
  })

  it.each([[206, 'partial'], [304, 'status'], [101, 'status'], [999, 'status']])('status %d is not stored', (status, reason) => {
    expect(verdict({ 'cache-control': 'max-age=60' }, status)).toEqual({ kind: 'pass', reason })
  })

  it('counts the request delay and a slow Date into the age (RFC 9111 §4.2.3)', () => {
    const v = originVerdict(new Headers({ date: new Date(now - 10_000).toUTCString(), 'cache-control': 'max-age=60', age: '5' }), 200, now, now + 2_000)
    // apparent age 12 s at arrival, corrected age value 7 s: 12 s at arrival, 10 s when the request was sent.
    expect(v).toEqual({ kind: 'store', windows: [50_000, 0, 0], ageAtRequest: 10_000 })
  })
})

describe('parseSharedDirectives', () => {
  it('reads qualified no-cache/private as field lists, not as the whole response', () => {
    const d = parseSharedDirectives('private="set-cookie", no-cache="x", s-maxage=5, proxy-revalidate')
    expect(d).toMatchObject({ private: false, noCache: false, sMaxAge: 5, proxyRevalidate: true })
  })
})
