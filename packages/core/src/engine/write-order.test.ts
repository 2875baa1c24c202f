import { describe, expect, it } from 'vitest'
import { WriteOrder } from './write-order.js'

describe('WriteOrder', () => {
  it('tells a read begun before a write of its key from one begun after, and ignores other keys', () => {
    const order = new WriteOrder()
    const before = order.token()
    order.wrote('a')
    const after = order.token()
    expect(order.overtaken('a', before)).toBe(true)
    expect(order.overtaken('a', after)).toBe(false)
    expect(order.overtaken('b', before)).toBe(false)
  })

  it('after forgetting (10,000 keys), treats every read begun before as overtaken, later ones normally', () => {
    const order = new WriteOrder()
    const old = order.token()
    for (let i = 0; i < 10_000; i++) order.wrote(`k${i}`)
    expect(order.overtaken('never-written', old)).toBe(false)
    order.wrote('one-more') // the memory is cleared here
    expect(order.overtaken('never-written', old)).toBe(true)
    const fresh = order.token()
    expect(order.overtaken('never-written', fresh)).toBe(false)
    order.wrote('k1')
    expect(order.overtaken('k1', fresh)).toBe(true)
  })
})
