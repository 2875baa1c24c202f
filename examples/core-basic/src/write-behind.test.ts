import { describe, expect, it } from 'vitest'
import { writeBehind } from './write-behind.js'

describe('write-behind example', () => {
  it('serves the write from the cache at once and persists the newest version in one batch', async () => {
    const r = await writeBehind()
    expect(r.fromCache).toEqual({ items: ['apple', 'pear'] })
    expect(r.row?.items).toEqual(['apple', 'pear'])
    expect(r.batches).toBe(1)
  })
})
