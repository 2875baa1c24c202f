import { describe, expect, it } from 'vitest'
import { refreshAheadExample } from './refresh-ahead.js'
import { slidingExample } from './sliding.js'
import { warmingExample } from './warming.js'

describe('refresh-ahead, sliding expiry and warming examples do what the README says', () => {
  it('refresh-ahead: an hour of reads every 30 s, one miss, then reloads only in the background', async () => {
    const r = await refreshAheadExample()
    // One refresh every 4 minutes of the hour (80 % of 5 minutes), none of them making a reader wait.
    expect(r.refreshes).toBe(15)
    expect(r.misses).toBe(2) // product:1's first read and product:2's
    expect(r.loads).toBe(1 + r.refreshes + 1) // product:2, read once, was not refreshed
  })

  it('sliding: alive while used, gone after an idle hour, capped at 12 hours', async () => {
    const r = await slidingExample()
    expect(r.afterTwoHours).toEqual({ user: 'ada' })
    expect(r.afterAnIdleHour).toBeUndefined()
    expect(r.bobLastSeenAfterMinutes).toBe(12 * 60 - 10) // the read at 12 h finds it ended
  })

  it('warming: the saved hot keys load before traffic, which then only hits', async () => {
    const r = await warmingExample()
    expect(r.saved).toHaveLength(10)
    expect(r.saved).toContain('product:1') // read most (i % 3 === 0 gives product:1 a third of the reads)
    expect(r.result).toMatchObject({ total: 10, done: 10, loaded: 10, fresh: 0, failed: 0 })
    expect(r.progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(r.loadsByTraffic).toBe(0)
    expect(r.stats).toMatchObject({ hits: 10, misses: 0 })
  })
})
