import { afterEach, describe, expect, it, vi } from 'vitest'
import { coarseClock, defaultClock, withDeadline } from './runtime.js'

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

describe('defaultClock', () => {
  it('is coarse in Node, where timers run between events', () => {
    vi.useFakeTimers()
    const now = defaultClock()
    expect(now).not.toBe(Date.now)
    now()
    expect(vi.getTimerCount()).toBe(1)
  })

  it('is Date.now itself in workerd, even with nodejs_compat imitating Node', () => {
    vi.stubGlobal('navigator', { userAgent: 'Cloudflare-Workers' })
    try {
      expect(defaultClock()).toBe(Date.now)
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('is Date.now itself in browsers, whose background tabs throttle timers', () => {
    vi.stubGlobal('navigator', { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0' })
    try {
      expect(defaultClock()).toBe(Date.now)
    } finally {
      vi.unstubAllGlobals()
    }
  })
})

describe('withDeadline', () => {
  it('waits for a deadline past 2^31 - 1 ms instead of firing at once (setTimeout overflow)', async () => {
    vi.useFakeTimers()
    try {
      let timedOut = false
      const pending = withDeadline(new Promise<string>(() => {}), 30 * 86_400_000, () => {
        timedOut = true
        return 'timeout'
      })
      await vi.advanceTimersByTimeAsync(10)
      expect(timedOut).toBe(false)
      await vi.advanceTimersByTimeAsync(2_147_483_647)
      expect(await pending).toBe('timeout')
    } finally {
      vi.useRealTimers()
    }
  })
})
