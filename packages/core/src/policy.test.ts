import { describe, expect, it } from 'vitest'
import { resolvePolicy } from './policy.js'

const base = resolvePolicy({ ttl: '1m', swr: '30s', tags: ['all'] }, undefined, 'options.policy', '')

describe('resolvePolicy', () => {
  it('turns durations into ms and fills defaults', () => {
    expect(resolvePolicy({ ttl: '5m' }, undefined, 'policy', '')).toMatchObject({
      ttl: 300_000,
      swr: 0,
      staleIfError: 0,
      negativeTtl: 300_000,
      jitter: 0,
      earlyRefresh: 0,
      tags: undefined,
      timeout: 0,
      hardTimeout: 0,
    })
  })

  it('merges a call policy over the defaults, tags as a union', () => {
    const p = resolvePolicy({ ttl: '10s', tags: ['product:1', 'all'] }, base, 'policy', '')
    expect(p.ttl).toBe(10_000)
    expect(p.swr).toBe(30_000)
    expect(p.tags).toEqual(['all', 'product:1'])
  })

  it('keeps an explicit negativeTtl from the defaults when a call changes ttl', () => {
    const defaults = resolvePolicy({ ttl: '1m', negativeTtl: '5s' }, undefined, 'options.policy', '')
    expect(resolvePolicy({ ttl: '1h' }, defaults, 'policy', '').negativeTtl).toBe(5_000)
    // Without an explicit one, a "not found" follows the call's ttl.
    expect(resolvePolicy({ ttl: '1h' }, base, 'policy', '').negativeTtl).toBe(3_600_000)
  })

  it('prefixes tags with the namespace', () => {
    expect(resolvePolicy({ ttl: 1, tags: ['a'] }, undefined, 'policy', 'v2:').tags).toEqual(['v2:a'])
  })

  it('requires a ttl somewhere', () => {
    expect(() => resolvePolicy(undefined, undefined, 'policy', '')).toThrow(/policy\.ttl is required/)
    expect(() => resolvePolicy({ swr: '1m' }, undefined, 'policy', '')).toThrow(TypeError)
  })

  it('names unknown options, catching typos', () => {
    expect(() => resolvePolicy({ ttl: '1m', staleWhileRevalidate: '1m' } as never, undefined, 'policy', '')).toThrow(
      /policy\.staleWhileRevalidate is not a policy option/,
    )
  })

  it('rejects jitter outside 0..1', () => {
    for (const jitter of [-0.1, 1.5, Number.NaN]) {
      expect(() => resolvePolicy({ ttl: '1m', jitter }, undefined, 'policy', '')).toThrow(/policy\.jitter must be a number from 0 to 1/)
    }
    expect(resolvePolicy({ ttl: '1m', jitter: 1 }, undefined, 'policy', '').jitter).toBe(1)
  })

  it('rejects a bad earlyRefresh beta', () => {
    expect(() => resolvePolicy({ ttl: '1m', earlyRefresh: -1 }, undefined, 'policy', '')).toThrow(RangeError)
    expect(() => resolvePolicy({ ttl: '1m', earlyRefresh: true as never }, undefined, 'policy', '')).toThrow(/earlyRefresh must be false or a finite number/)
    expect(resolvePolicy({ ttl: '1m', earlyRefresh: false }, undefined, 'policy', '').earlyRefresh).toBe(0)
  })

  it('rejects windows that contradict each other', () => {
    expect(() => resolvePolicy({ ttl: '1m', timeout: '1s' }, undefined, 'policy', '')).toThrow(/policy\.timeout answers with a stale value, so it needs policy\.staleIfError > 0/)
    expect(() => resolvePolicy({ ttl: '1m', staleIfError: '1h', timeout: '2s', hardTimeout: '1s' }, undefined, 'policy', '')).toThrow(
      /policy\.timeout \(2000 ms\) must be shorter than policy\.hardTimeout \(1000 ms\)/,
    )
    expect(() => resolvePolicy({ ttl: 0, earlyRefresh: 1 }, undefined, 'policy', '')).toThrow(/earlyRefresh needs policy\.ttl > 0/)
  })

  it('validates tags', () => {
    expect(() => resolvePolicy({ ttl: 1, tags: 'a' as never }, undefined, 'policy', '')).toThrow(/policy\.tags must be an array of strings/)
    expect(() => resolvePolicy({ ttl: 1, tags: [''] }, undefined, 'policy', '')).toThrow(/policy\.tags\[0\] must be 1 to 256 characters/)
    expect(() => resolvePolicy({ ttl: 1, tags: ['ok', 'x\ud800'] }, undefined, 'policy', '')).toThrow(/policy\.tags\[1\] must be well-formed UTF-16/)
    expect(() => resolvePolicy({ ttl: 1, tags: [1 as never] }, undefined, 'policy', '')).toThrow(TypeError)
  })

  it('rejects a policy that is not an object', () => {
    expect(() => resolvePolicy('5m' as never, undefined, 'policy', '')).toThrow(/policy must be an object like \{ ttl: '5m' \}/)
  })
})
