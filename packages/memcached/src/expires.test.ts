import { describe, expect, it } from 'vitest'
import { expiresField, RELATIVE_EXPIRY_LIMIT_S } from './memcached-store.js'

describe('expiresField (Memcached expiration in seconds, absolute past 30 days)', () => {
  const wall = 1_700_000_000_500

  it('rounds up to whole seconds and adds one for the server clock tick', () => {
    expect(expiresField(1, wall)).toBe(2)
    expect(expiresField(1_000, wall)).toBe(2)
    expect(expiresField(1_001, wall)).toBe(3)
    expect(expiresField(60_000, wall)).toBe(61)
  })

  it('stays relative up to 30 days, then is an absolute Unix time', () => {
    expect(expiresField((RELATIVE_EXPIRY_LIMIT_S - 1) * 1_000, wall)).toBe(RELATIVE_EXPIRY_LIMIT_S)
    const beyond = expiresField(RELATIVE_EXPIRY_LIMIT_S * 1_000, wall)
    expect(beyond).toBe(1_700_000_000 + RELATIVE_EXPIRY_LIMIT_S + 1)
    expect(expiresField(365 * 86_400_000, wall)).toBe(1_700_000_000 + 365 * 86_400 + 1)
  })
})
