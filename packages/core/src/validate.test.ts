import { describe, expect, it } from 'vitest'
import { assertKey, assertSerializable } from './validate.js'

describe('assertKey', () => {
  it('accepts 1..max characters', () => {
    expect(() => assertKey('a', 'key', 4)).not.toThrow()
    expect(() => assertKey('abcd', 'key', 4)).not.toThrow()
  })
  it('names the argument and the rule', () => {
    expect(() => assertKey('', 'key', 4)).toThrow(new RangeError('key must be 1 to 4 characters, got 0'))
    expect(() => assertKey('abcde', 'keys[2]', 4)).toThrow(/keys\[2\] must be 1 to 4 characters, got 5/)
    expect(() => assertKey(42, 'key', 4)).toThrow(new TypeError('key must be a string, got number'))
  })
  it('rejects lone surrogates (no UTF-8 form: "a\\ud800" and "a\\udbff" would be one Redis key), accepts pairs', () => {
    expect(() => assertKey('a\ud800', 'key', 10)).toThrow(RangeError)
    expect(() => assertKey('a\udbff', 'keys[1]', 10)).toThrow(/keys\[1\] must be well-formed UTF-16 text: it has a lone surrogate \\udbff at index 1/)
    expect(() => assertKey('\udc00x', 'key', 10)).toThrow(/\\udc00 at index 0/)
    expect(() => assertKey('\ud83d\ude00\ud83d', 'key', 10)).toThrow(/index 2/)
    expect(() => assertKey('\ud83d\ude00 ok é', 'key', 10)).not.toThrow()
  })
})

describe('assertSerializable', () => {
  it('accepts JSON-compatible values', () => {
    for (const value of ['s', 1, -0.5, true, null, [], {}, [1, [2, { a: 'b' }]], { a: undefined, b: 1 }, Object.create(null)]) {
      expect(() => assertSerializable(value, 'value')).not.toThrow()
    }
  })

  it('rejects what JSON would change or lose, naming the path', () => {
    expect(() => assertSerializable({ user: { born: new Date() } }, 'value')).toThrow(/value\.user\.born cannot be cached: Date does not survive serialization/)
    expect(() => assertSerializable({ fn: () => 1 }, 'value')).toThrow(/value\.fn cannot be cached: function values/)
    expect(() => assertSerializable([1, 10n], 'value')).toThrow(/value\[1\] cannot be cached: bigint/)
    expect(() => assertSerializable({ n: Number.NaN }, 'value')).toThrow(/value\.n cannot be cached: NaN becomes null/)
    expect(() => assertSerializable(new Map(), 'value')).toThrow(/Map does not survive/)
    expect(() => assertSerializable([undefined], 'value')).toThrow(/undefined array items become null/)
    expect(() => assertSerializable(Symbol('x'), 'value')).toThrow(TypeError)
  })

  it('rejects cycles', () => {
    const a: Record<string, unknown> = {}
    a.self = { back: a }
    expect(() => assertSerializable(a, 'value')).toThrow(/value\.self\.back cannot be cached: it refers back to itself/)
  })

  it('starts clean after a getter threw half-way down', () => {
    const shared = { x: 1 }
    const trap = { a: shared, get b(): never { throw new Error('getter failed') } }
    expect(() => assertSerializable(trap, 'value')).toThrow('getter failed')
    expect(() => assertSerializable({ again: shared }, 'value')).not.toThrow()
  })

  it('accepts the same object twice when it is not a cycle', () => {
    const shared = { x: 1 }
    expect(() => assertSerializable({ a: shared, b: shared }, 'value')).not.toThrow()
  })
})
