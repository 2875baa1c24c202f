import { afterEach, describe, expect, it, vi } from 'vitest'
import { coarseClock } from './runtime.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('coarseClock', () => {
  it('reads the clock at most once per 16 calls within a millisecond', () => {
    vi.useFakeTimers()
    let t = 1000
    const read = vi.fn(() => t++)
    const now = coarseClock(read)
    const seen = Array.from({ length: 32 }, () => now())
    expect(read).toHaveBeenCalledTimes(2)
    expect(seen.slice(0, 16)).toEqual(Array(16).fill(1000))
    expect(seen[16]).toBe(1001)
  })

  it('reads again once its 1 ms timer has fired', async () => {
    vi.useFakeTimers()
    let t = 1000
    const now = coarseClock(() => t)
    expect(now()).toBe(1000)
    t = 1500
    expect(now()).toBe(1000)
    await vi.advanceTimersByTimeAsync(1)
    expect(now()).toBe(1500)
  })

  it('keeps at most one timer pending', () => {
    vi.useFakeTimers()
    const now = coarseClock(() => 1)
    for (let i = 0; i < 100; i++) now()
    expect(vi.getTimerCount()).toBe(1)
  })
})
