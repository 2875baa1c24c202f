import { describe, expect, it } from 'vitest'
import {
  appendVary,
  cacheControlDirectives,
  connectionOptions,
  correctedInitialAge,
  decodeBody,
  encodeBody,
  expiresLifetime,
  formatCacheStatus,
  mergeVary,
  parseAge,
  parseCacheControl,
  selectedValue,
  storableHeaders,
  varyNames,
  type HeadersLike,
} from './index.js'

describe('parseCacheControl', () => {
  it('reads request and response directives, case-insensitively', () => {
    expect(parseCacheControl('Max-Age=60, S-MAXAGE=120, STALE-WHILE-REVALIDATE=30, stale-if-error=600, must-revalidate, private')).toEqual({
      maxAge: 60,
      sMaxAge: 120,
      staleWhileRevalidate: 30,
      staleIfError: 600,
      mustRevalidate: true,
      proxyRevalidate: false,
      private: true,
      noStore: false,
      noCache: false,
      public: false,
      mustUnderstand: false,
      immutable: false,
      onlyIfCached: false,
      conflicting: false,
    })
    expect(parseCacheControl('max-stale, min-fresh=5, only-if-cached, immutable, must-understand')).toMatchObject({
      maxStale: Number.POSITIVE_INFINITY,
      minFresh: 5,
      onlyIfCached: true,
      immutable: true,
      mustUnderstand: true,
    })
    expect(parseCacheControl('max-stale=30').maxStale).toBe(30)
    expect(parseCacheControl(null)).toMatchObject({ noStore: false, noCache: false })
  })

  it('treats qualified no-cache and private as present and does not split inside quotes', () => {
    expect(parseCacheControl('no-cache="set-cookie, x-a", max-age=5')).toMatchObject({ noCache: true, maxAge: 5 })
    expect(parseCacheControl('private="x, y", s-maxage=1')).toMatchObject({ private: true, sMaxAge: 1 })
    expect(cacheControlDirectives('Max-Age=60, no-cache="set-cookie, x", public')).toEqual(
      new Map<string, string | undefined>([
        ['max-age', '60'],
        ['no-cache', 'set-cookie, x'],
        ['public', undefined],
      ]),
    )
    expect(cacheControlDirectives('private="a \\"b\\""').get('private')).toBe('a "b"')
  })

  it('reads a quoted max-age, marks invalid values NaN and caps huge ones at 2^31 (RFC 9111 §1.2.2)', () => {
    expect(parseCacheControl('max-age="30"').maxAge).toBe(30)
    expect(parseCacheControl('max-age=soon').maxAge).toBeNaN()
    expect(parseCacheControl('max-age=99999999999999').maxAge).toBe(2_147_483_648)
    expect(parseCacheControl('stale-while-revalidate=x').staleWhileRevalidate).toBeUndefined()
  })

  it('flags a directive repeated with another value, keeping the first (§4.2.1)', () => {
    expect(parseCacheControl('max-age=60, max-age=10')).toMatchObject({ conflicting: true, maxAge: 60 })
    expect(parseCacheControl('max-age=60, max-age=60').conflicting).toBe(false)
  })
})

describe('parseAge (§5.1)', () => {
  it('reads the first member of a list; anything but a non-negative integer is invalid (NaN)', () => {
    expect(parseAge(null)).toBeUndefined()
    expect(parseAge('7200, 0')).toBe(7200)
    expect(parseAge(' 0,7200')).toBe(0)
    for (const bad of ['abc', '-7200', '7200.0', '7200;foo=bar', '']) expect(parseAge(bad)).toBeNaN()
  })
})

describe('header fields', () => {
  it('stores neither connection fields (and those Connection names), cookies nor Content-Length (RFC 9111 §3.1)', () => {
    const headers = new Headers({ 'content-type': 'text/plain', connection: 'close, X-Hop', 'x-hop': '1', 'set-cookie': 'a=1', 'content-length': '3', etag: '"1"' })
    expect(connectionOptions(headers)).toEqual(new Set(['close', 'x-hop']))
    expect(storableHeaders(headers)).toEqual([
      ['content-type', 'text/plain'],
      ['etag', '"1"'],
    ])
    expect(storableHeaders(new Headers({ 'content-encoding': 'gzip', etag: '"1"' }), ['content-encoding'])).toEqual([['etag', '"1"']])
  })

  it('lists Vary names lowercase, sorted and unique; * stays *; merges two Vary values', () => {
    expect(varyNames('Accept-Language, accept, ACCEPT')).toEqual(['accept', 'accept-language'])
    expect(varyNames('accept, *')).toBe('*')
    expect(varyNames(null)).toEqual([])
    expect(mergeVary('Accept-Encoding', 'Cookie, accept-encoding')).toBe('accept-encoding, cookie')
    expect(mergeVary(null, 'Accept')).toBe('accept')
    expect(mergeVary('accept', '*')).toBe('*')
    expect(mergeVary(null, ' ')).toBeNull()
  })

  it('appends Vary names to a value as written: its fields kept as they are, each name it does not list after them', () => {
    expect(appendVary('Accept-Language, Accept-Encoding', ['accept-language'])).toBe('Accept-Language, Accept-Encoding')
    expect(appendVary('accept-encoding', ['Accept-Language', 'x-tenant', 'X-Tenant'])).toBe('accept-encoding, Accept-Language, x-tenant')
    expect(appendVary(' User-Agent ,, ', [])).toBe('User-Agent')
    expect(appendVary(null, ['x-tenant'])).toBe('x-tenant')
  })

  it('normalizes a selected request value (§4.1) on any HeadersLike', () => {
    const headers: HeadersLike = { get: (name) => ({ 'accept-language': ' EN   us , fr ', 'x-id': 'A  b' })[name] ?? null }
    expect(selectedValue(headers, 'accept-language')).toBe('en us,fr')
    expect(selectedValue(headers, 'x-id')).toBe('A b')
    expect(selectedValue(headers, 'x-absent')).toBeNull()
  })
})

describe('bodies', () => {
  it('keeps valid UTF-8 as text, byte for byte (a BOM included), and anything else as base64', () => {
    const withBom = new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69])
    const text = encodeBody(withBom)
    expect(text.b64).toBeUndefined()
    expect([...decodeBody(text)]).toEqual([...withBom])
    const binary = new Uint8Array([0, 255, 0xc3, 0x28, 10])
    const b64 = encodeBody(binary)
    expect(b64).toEqual({ body: 'AP/DKAo=', b64: 1 })
    expect([...decodeBody(b64)]).toEqual([...binary])
    const stored = encodeBody(new TextEncoder().encode('x'))
    expect(decodeBody(stored)).not.toBe(decodeBody(stored))
  })
})

describe('Cache-Status', () => {
  it('is the same formatter as the main entry', async () => {
    expect(formatCacheStatus).toBe((await import('../index.js')).formatCacheStatus)
  })
})

describe('expiresLifetime (RFC 9111 §4.2.1)', () => {
  const T = 1_700_000_000_000
  const h = (fields: Record<string, string>): HeadersLike => ({ get: (name) => fields[name] ?? null })
  const at = (ms: number): string => new Date(ms).toUTCString()

  it('is Expires minus Date, never below 0; undefined without Expires', () => {
    expect(expiresLifetime(h({ date: at(T - 60_000), expires: at(T + 240_000) }), T)).toBe(300_000)
    expect(expiresLifetime(h({ date: at(T), expires: at(T - 60_000) }), T)).toBe(0)
    expect(expiresLifetime(h({ date: at(T) }), T)).toBeUndefined()
  })

  it('measures from the response time when Date is missing or invalid', () => {
    expect(expiresLifetime(h({ expires: at(T + 60_000) }), T)).toBe(60_000)
    expect(expiresLifetime(h({ date: 'yesterday', expires: at(T + 60_000) }), T)).toBe(60_000)
  })

  it('takes an invalid Expires ("0" included) as already expired (§5.3)', () => {
    expect(expiresLifetime(h({ date: at(T), expires: '0' }), T)).toBe(0)
    expect(expiresLifetime(h({ expires: 'soon' }), T)).toBe(0)
  })
})

describe('correctedInitialAge (RFC 9111 §4.2.3)', () => {
  const T = 1_700_000_000_000
  const h = (fields: Record<string, string>): HeadersLike => ({ get: (name) => fields[name] ?? null })

  it('takes the larger of apparent age and Age plus the response delay', () => {
    // Age 10 s, request took 2 s: corrected_age_value 12 s beats apparent_age 5 s.
    expect(correctedInitialAge(h({ age: '10', date: new Date(T - 5_000).toUTCString() }), T - 2_000, T)).toBe(12_000)
    // Date 30 s old, no Age: apparent_age wins.
    expect(correctedInitialAge(h({ date: new Date(T - 30_000).toUTCString() }), T, T)).toBe(30_000)
  })

  it('counts a Date in the future, a missing or an invalid one as the response time', () => {
    expect(correctedInitialAge(h({ date: new Date(T + 60_000).toUTCString() }), T, T)).toBe(0)
    expect(correctedInitialAge(h({ date: 'yesterday' }), T - 1_000, T)).toBe(1_000)
    expect(correctedInitialAge(h({}), T, T)).toBe(0)
  })

  it('compares Date with the clock in whole seconds: a response of this second is not counted up to a second old', () => {
    expect(correctedInitialAge(h({ date: new Date(T).toUTCString() }), T + 900, T + 900)).toBe(0)
    expect(correctedInitialAge(h({ date: new Date(T).toUTCString() }), T + 1_200, T + 1_900)).toBe(1_000)
    // The response delay still counts in full.
    expect(correctedInitialAge(h({ date: new Date(T).toUTCString() }), T + 100, T + 900)).toBe(800)
  })

  it('is NaN when Age is invalid: the age cannot be known', () => {
    expect(correctedInitialAge(h({ age: 'x' }), T, T)).toBeNaN()
    expect(correctedInitialAge(h({ age: '-1' }), T, T)).toBeNaN()
  })
})
