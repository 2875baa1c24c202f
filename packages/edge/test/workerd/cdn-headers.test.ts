// Outward caching headers and CDN tags, inside workerd; the headers are judged by http-cache-semantics, an
// independent RFC 9111 implementation, as a shared cache (CDN) and as a private one (browser).
import type { Entry } from '@tiercache/core'
import { createEntry, resolvePolicy } from '@tiercache/core/store'
import CachePolicy from 'http-cache-semantics'
import { describe, expect, it } from 'vitest'
import { CACHE_TAG_HEADER_LIMIT, cdnTag, cdnTags, outwardHeaders, type HeaderScope } from '../../src/index'

const createdAt = Date.UTC(2026, 11, 3, 6, 0, 0)
const entry: Entry = createEntry('body', resolvePolicy({ ttl: '5m', swr: '1m', staleIfError: '1h' }, undefined, 'policy', ''), createdAt, 0, Math.random)

function judge(headers: Record<string, string>, shared: boolean, now: number): CachePolicy {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  class JudgeAt extends CachePolicy {
    override now(): number {
      return now
    }
  }
  return new JudgeAt({ url: '/p/1', method: 'GET', headers: {} }, { status: 200, headers: { date: new Date(now).toUTCString(), ...lower } }, { shared })
}

const freshFor = (policy: CachePolicy): number => policy.maxAge() - policy.age()

describe('outwardHeaders by scope', () => {
  const now = createdAt + 42_000
  const tags = ['product:1', 'prices']

  it("'all': browsers and shared caches keep it for what the entry has left; CDN fields and Cache-Tag carry the windows and tags", () => {
    const h = outwardHeaders(entry, { now, tags })
    expect(h).toEqual({
      'Cache-Control': 'public, max-age=300, stale-while-revalidate=60, stale-if-error=3600',
      'CDN-Cache-Control': 'max-age=300, stale-while-revalidate=60, stale-if-error=3600',
      'Cloudflare-CDN-Cache-Control': 'max-age=300, stale-while-revalidate=60, stale-if-error=3600',
      Age: '42',
      'Cache-Tag': 'product:1,prices',
    })
    for (const shared of [true, false]) {
      const j = judge(h, shared, now)
      expect(j.storable()).toBe(true)
      expect(freshFor(j)).toBe(258)
    }
  })

  it("'all' with browserTtl: browsers keep it shorter, shared caches the whole lifetime", () => {
    const h = outwardHeaders(entry, { now: createdAt, browserTtl: 30_000 })
    expect(h['Cache-Control']).toBe('public, max-age=30, s-maxage=300, stale-while-revalidate=60, stale-if-error=3600')
    expect(freshFor(judge(h, false, createdAt))).toBe(30)
    expect(freshFor(judge(h, true, createdAt))).toBe(300)
  })

  it("'browser': private, no CDN fields, no tags: a shared cache must not store it", () => {
    const h = outwardHeaders(entry, { now, tags })
    const b = outwardHeaders(entry, { now, tags, scope: 'browser' })
    expect(b).toEqual({ 'Cache-Control': 'private, max-age=300, stale-while-revalidate=60, stale-if-error=3600', Age: '42' })
    expect(judge(b, true, now).storable()).toBe(false)
    expect(judge(b, false, now).storable()).toBe(true)
    expect(freshFor(judge(b, false, now))).toBe(freshFor(judge(h, false, now)))
  })

  it("'shared': CDNs keep it (CDN fields, s-maxage, tags), browsers must revalidate every use", () => {
    const s = outwardHeaders(entry, { now, tags, scope: 'shared', surrogateKey: true })
    expect(s).toEqual({
      'Cache-Control': 'public, max-age=0, s-maxage=300',
      'CDN-Cache-Control': 'max-age=300, stale-while-revalidate=60, stale-if-error=3600',
      'Cloudflare-CDN-Cache-Control': 'max-age=300, stale-while-revalidate=60, stale-if-error=3600',
      Age: '42',
      'Cache-Tag': 'product:1,prices',
      'Surrogate-Key': 'product:1 prices',
    })
    expect(freshFor(judge(s, true, now))).toBe(258)
    const browser = judge(s, false, now)
    expect(browser.stale()).toBe(true)
    expect(browser.useStaleWhileRevalidate()).toBe(false)
  })

  it("'tiers': nothing outside tiercache stores it", () => {
    const t = outwardHeaders(entry, { now, tags, scope: 'tiers' })
    expect(t).toEqual({ 'Cache-Control': 'no-store' })
    for (const shared of [true, false]) expect(judge(t, shared, now).storable()).toBe(false)
  })

  it('turns CDN fields and Cache-Tag off one by one', () => {
    const h = outwardHeaders(entry, { now, tags, cdn: false, cloudflare: false, cacheTag: false })
    expect(Object.keys(h).sort()).toEqual(['Age', 'Cache-Control'])
    expect(outwardHeaders(entry, { now, tags, cdn: false })['Cloudflare-CDN-Cache-Control']).toBeDefined()
  })

  it('rejects an unknown scope at the call site', () => {
    expect(() => outwardHeaders(entry, { now, scope: 'cdn' as HeaderScope })).toThrow(RangeError)
  })

  it.each([0, 1, 999, 299_000, 299_999, 300_000, 330_000])('at %d ms of age no cache keeps it past the entry (scope all and shared)', (ageMs) => {
    const at = createdAt + ageMs
    const remaining = (entry.freshUntil - at) / 1000
    for (const scope of ['all', 'shared'] as const) {
      const j = judge(outwardHeaders(entry, { now: at, scope }), true, at)
      expect(freshFor(j)).toBeLessThanOrEqual(Math.max(0, remaining))
      expect(freshFor(j)).toBeGreaterThan(remaining - 2)
    }
  })
})

describe('CDN tags (Cache-Tag, Surrogate-Key, purge calls)', () => {
  it('keeps safe tags as they are, in order, without duplicates', () => {
    expect(cdnTags(['product:1', 'prices', 'product:1', 'a.b/c_d-e'])).toEqual(['product:1', 'prices', 'a.b/c_d-e'])
  })

  it.each([
    ['comma', 'a,b'],
    ['space', 'a b'],
    ['tab', 'a\tb'],
    ['CR LF (header injection)', 'x\r\nSet-Cookie: a=b'],
    ['non-ASCII', 'préférence'],
    ['too long', 'x'.repeat(129)],
  ])('hashes a tag with a %s, so it can neither split nor inject', (_why, tag) => {
    const written = cdnTag(tag)
    expect(written).toMatch(/^tc-[0-9a-f]{16}$/)
    // The same tag hashes the same way in every isolate: a purge reaches what Cache-Tag marked.
    expect(cdnTag(tag)).toBe(written)
    expect(new Headers({ 'cache-tag': cdnTags(['ok', tag]).join(',') }).get('cache-tag')).toBe(`ok,${written}`)
  })

  it('different unsafe tags hash apart', () => {
    const many = new Set(Array.from({ length: 2000 }, (_, i) => cdnTag(`tag, ${i}`)))
    expect(many.size).toBe(2000)
  })

  it("'throw' rejects unsafe tags at the call site, naming the rule", () => {
    expect(() => cdnTag('a,b', { unsafe: 'throw' })).toThrow(/visible ASCII characters without commas or spaces/)
    expect(() => cdnTags(['ok', 'a b'], { unsafe: 'throw' })).toThrow(/tags\[1\]/)
    expect(cdnTag('ok', { unsafe: 'throw' })).toBe('ok')
  })

  it('keeps 64 tags of the longest kept length within the header limit, and rejects what would not fit', () => {
    const tags = Array.from({ length: 64 }, (_, i) => `${String(i).padStart(2, '0')}${'t'.repeat(126)}`)
    expect(cdnTags(tags).join(',').length).toBeLessThanOrEqual(CACHE_TAG_HEADER_LIMIT)
    const huge = Array.from({ length: 200 }, (_, i) => `${String(i).padStart(3, '0')}${'t'.repeat(500)}`)
    expect(() => cdnTags(huge, { maxTagLength: 600 })).toThrow(RangeError)
    expect(() => cdnTags(Array.from({ length: 1001 }, (_, i) => `t${i}`))).toThrow(/at most 1000/)
  })

  it('rejects bad input at the call site', () => {
    expect(() => cdnTag('')).toThrow(RangeError)
    expect(() => cdnTag(1 as unknown as string)).toThrow(TypeError)
    expect(() => cdnTags('a' as unknown as string[])).toThrow(TypeError)
    expect(() => cdnTag('a', { maxTagLength: 5 })).toThrow(/maxTagLength/)
  })
})
