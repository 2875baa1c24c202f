import { describe, expect, it } from 'vitest'
import { consistentWritesExample } from './consistent-writes.js'

describe('consistent writes example', () => {
  it('a read that began before the write answers its caller, and no server serves it afterwards', async () => {
    const r = await consistentWritesExample()
    expect(r.oldAnswer).toEqual({ price: 10 })
    expect(r.onA).toEqual({ price: 12 })
    expect(r.onB).toEqual({ price: 12 })
  })
})
