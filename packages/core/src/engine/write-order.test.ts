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

  it('counts a load\'s write as overtaking reads until it has landed, and supersedes only older entries', async () => {
    const order = new WriteOrder()
    const before = order.token()
    let land!: () => void
    order.landing('a', new Promise<void>((resolve) => (land = resolve)), 200)
    const during = order.token()
    // Begun before the write, or while it is under way: overtaken; what they found is superseded when older.
    expect(order.overtaken('a', before)).toBe(true)
    expect(order.overtaken('a', during)).toBe(true)
    expect(order.superseded('a', during, 100)).toBe(true)
    // The entry being written (or a newer one) is not superseded by its own write.
    expect(order.superseded('a', during, 200)).toBe(false)
    expect(order.superseded('a', during, 300)).toBe(false)
    land()
    await Promise.resolve()
    await Promise.resolve()
    expect(order.overtaken('a', during)).toBe(true)
    const after = order.token()
    expect(order.overtaken('a', after)).toBe(false)
    expect(order.superseded('a', after, 100)).toBe(false)
    // Another kind of write since (set, delete) supersedes whatever the read found.
    order.wrote('a')
    expect(order.superseded('a', after, 300)).toBe(true)
  })
})
