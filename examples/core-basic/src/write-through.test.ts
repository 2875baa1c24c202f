import { describe, expect, it } from 'vitest'
import { writeThrough } from './write-through.js'

describe('write-through example', () => {
  it('caches what the database took, and nothing it refused', async () => {
    const r = await writeThrough()
    expect(r.cached).toEqual({ id: 1, name: 'Ada Lovelace' })
    expect(r.row).toEqual({ id: 1, name: 'Ada Lovelace' })
    expect(r.refused).toBe('name must not be empty')
  })
})
