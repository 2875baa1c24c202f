import { describe, expect, it } from 'vitest'
import { MAX_DURATION_MS, parseDuration, type Duration } from './duration.js'

describe('parseDuration', () => {
  it.each([
    [0, 0],
    [250, 250],
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    [' 2 m ', 120_000],
  ])('%j is %d ms', (input, ms) => {
    expect(parseDuration(input as Duration, 'policy.ttl')).toBe(ms)
  })

  it('rejects negative, NaN and infinite numbers with a RangeError naming the argument', () => {
    expect(() => parseDuration(-1, 'policy.ttl')).toThrow(new RangeError('policy.ttl must not be negative, got -1'))
    expect(() => parseDuration(Number.NaN, 'policy.swr')).toThrow(/policy\.swr must be a number of milliseconds, got NaN/)
    expect(() => parseDuration(Infinity, 'policy.ttl')).toThrow(RangeError)
  })

  it('rejects strings whose number overflows to Infinity, and clamps finite ones past 2^53 - 1 ms', () => {
    expect(() => parseDuration(`${'9'.repeat(400)}s` as Duration, 'policy.ttl')).toThrow(/policy\.ttl must be finite/)
    expect(() => parseDuration(`${'9'.repeat(310)}ms` as Duration, 'policy.swr')).toThrow(RangeError)
    expect(parseDuration(1e24, 'policy.ttl')).toBe(MAX_DURATION_MS)
    expect(parseDuration(`${'9'.repeat(30)}d` as Duration, 'policy.ttl')).toBe(MAX_DURATION_MS)
    expect(parseDuration(MAX_DURATION_MS, 'policy.ttl')).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('rejects strings it cannot read, naming the accepted forms', () => {
    for (const bad of ['', '5', '5 minutes', '-5s', '1w', 's', '1e3ms']) {
      expect(() => parseDuration(bad as Duration, 'policy.ttl')).toThrow(RangeError)
    }
    expect(() => parseDuration('soon' as Duration, 'options.lockTtl')).toThrow(/options\.lockTtl must be a duration like '500ms', '30s'.*"soon"/)
  })

  it('rejects other types with a TypeError', () => {
    expect(() => parseDuration({} as never, 'policy.ttl')).toThrow(TypeError)
    expect(() => parseDuration(null as never, 'policy.ttl')).toThrow(/got null/)
  })
})
