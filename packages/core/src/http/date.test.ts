import { describe, expect, it } from 'vitest'
import { parseHttpDate } from './date.js'

const NOW = Date.UTC(2026, 0, 15)

describe('parseHttpDate (RFC 9110 §5.6.7)', () => {
  it('reads the three forms', () => {
    const t = Date.UTC(1994, 10, 6, 8, 49, 37)
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(t)
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(t)
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994', NOW)).toBe(t)
    expect(parseHttpDate(' Sun, 06 Nov 1994 08:49:37 GMT ', NOW)).toBe(t)
  })

  it('places RFC 850 two-digit years no more than 50 years ahead', () => {
    expect(parseHttpDate('Friday, 01-Jan-37 00:00:00 GMT', NOW)).toBe(Date.UTC(2037, 0, 1))
    expect(parseHttpDate('Thursday, 01-Jan-76 00:00:00 GMT', NOW)).toBe(Date.UTC(2076, 0, 1))
    expect(parseHttpDate('Monday, 01-Jan-80 00:00:00 GMT', NOW)).toBe(Date.UTC(1980, 0, 1))
    expect(parseHttpDate('Saturday, 01-Jan-00 00:00:00 GMT', NOW)).toBe(Date.UTC(2000, 0, 1))
  })

  it('rejects what Date.parse accepts but HTTP does not', () => {
    for (const bad of [
      '0',
      '-1',
      '2026-01-15T00:00:00Z',
      'Sun, 06 Nov 1994',
      'Sun, 06 Nov 1994 08:49:37',
      'Sun, 06 Nov 1994 08:49:37 UTC',
      'sun, 06 nov 1994 08:49:37 gmt',
      'Sun, 6 Nov 1994 08:49:37 GMT',
      'Sun, 31 Feb 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 24:00:00 GMT',
      'Sun, 06 Nov 94 08:49:37 GMT',
      '',
    ]) {
      expect(parseHttpDate(bad, NOW), bad).toBeUndefined()
    }
    expect(parseHttpDate(null, NOW)).toBeUndefined()
  })
})
