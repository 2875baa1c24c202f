import { describe, expect, it } from 'vitest'
import { keySlot } from './key-slot.js'

describe('keySlot', () => {
  it('matches the slots Redis documents and computes', () => {
    // CLUSTER KEYSLOT answers on redis-server 7.0 (also checked against a live cluster in cluster.test.ts).
    expect(keySlot('123456789')).toBe(12_739)
    expect(keySlot('foo')).toBe(12_182)
    expect(keySlot('bar')).toBe(5_061)
    expect(keySlot('')).toBe(0)
  })

  it('hashes only the hash tag when there is one', () => {
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'))
    expect(keySlot('tc:{tags}:stamp')).toBe(keySlot('tc:{tags}:tag:a'))
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}')) // empty tag: the whole key
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'))
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'))
    expect(keySlot('foo{bar}{zap}')).toBe(keySlot('bar'))
  })

  it('hashes UTF-8 bytes', () => {
    expect(keySlot('ключ')).toBe(10_303)
    expect(keySlot('ключ')).toBe(keySlot('{ключ}'))
  })
})
