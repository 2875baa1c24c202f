import { describe, expect, it } from 'vitest'
import { estimateSize } from './estimate-size.js'

describe('estimateSize', () => {
  it('grows with content', () => {
    expect(estimateSize('abcd')).toBeGreaterThan(estimateSize('ab'))
    expect(estimateSize({ a: 'x'.repeat(100) })).toBeGreaterThan(200)
    expect(estimateSize([1, 2, 3])).toBeGreaterThan(estimateSize([1]))
  })
})
