import { describe, expect, it } from 'vitest'
import { Origin, OriginDownError } from './origin.js'

const fast = () => new Origin({ latency: () => 0 })

describe('Origin', () => {
  it('has products 1..50 and nothing else', async () => {
    const origin = fast()
    expect(await origin.product(1)).toMatchObject({ id: 1, version: 1 })
    expect(await origin.product(50)).toMatchObject({ id: 50 })
    expect(await origin.product(51)).toBeNull()
  })

  it('counts reads per key, a batch once per id', async () => {
    const origin = fast()
    await origin.product(3)
    await origin.products([3, 4, 99])
    expect(origin.stats()).toEqual({ calls: { 'product:3': 2, 'product:4': 1, 'product:99': 1 }, batches: 1, total: 2, failing: false })
  })

  it('bumps the version on update, without counting a read', async () => {
    const origin = fast()
    expect(await origin.update(5, { price: 1234 })).toMatchObject({ id: 5, price: 1234, version: 2 })
    expect(await origin.product(5)).toMatchObject({ price: 1234, version: 2 })
    expect(origin.stats().calls).toEqual({ 'product:5': 1 })
    expect(await origin.update(77, { price: 1 })).toBeNull()
  })

  it('fails every query while switched to failing', async () => {
    const origin = fast()
    origin.failing = true
    await expect(origin.product(1)).rejects.toBeInstanceOf(OriginDownError)
    await expect(origin.products([1, 2])).rejects.toBeInstanceOf(OriginDownError)
    origin.failing = false
    expect(await origin.product(1)).not.toBeNull()
  })
})
