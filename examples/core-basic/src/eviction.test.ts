import { describe, expect, it } from 'vitest'
import { eviction } from './eviction.js'

describe('eviction example', () => {
  it('lfu: an export of 20,000 one-time keys leaves the 200 popular ones cached; lru and fifo lose most of them', async () => {
    expect(await eviction('lfu')).toEqual({ reloadedAfterExport: 0 })
    // Only the popular keys read in the export's last stretch are still there.
    expect((await eviction('lru')).reloadedAfterExport).toBeGreaterThan(100)
    expect((await eviction('fifo')).reloadedAfterExport).toBeGreaterThan(100)
  })
})
