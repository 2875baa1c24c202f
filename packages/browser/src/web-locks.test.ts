// The decisions of web-locks.ts on a small in-process LockManager (exclusive locks, FIFO, ifAvailable, signal) —
// the real one is exercised with two Chromium tabs in test/chromium/scenarios/cross-tab.ts.
import { describe, expect, it, vi } from 'vitest'
import { exclusive, tryLock } from './web-locks.js'

function lockManager(): LockManager {
  const held = new Set<string>()
  const queues = new Map<string, (() => void)[]>()
  const next = (name: string): void => {
    const waiter = queues.get(name)?.shift()
    if (waiter !== undefined) waiter()
    else held.delete(name)
  }
  const request = async (name: string, options: LockOptions, callback: (lock: Lock | null) => unknown): Promise<unknown> => {
    if (held.has(name)) {
      if (options.ifAvailable === true) return callback(null)
      await new Promise<void>((granted, refused) => {
        const queue = queues.get(name) ?? []
        queues.set(name, queue)
        const grant = (): void => granted()
        queue.push(grant)
        options.signal?.addEventListener('abort', () => {
          queue.splice(queue.indexOf(grant), 1)
          refused(new DOMException('aborted', 'AbortError'))
        })
      })
    } else held.add(name)
    try {
      return await callback({ name, mode: 'exclusive' } as Lock)
    } finally {
      next(name)
    }
  }
  return { request: request as LockManager['request'], query: async () => ({}) }
}

describe('tryLock', () => {
  it('takes a free lock, refuses a held one, and frees it on release()', async () => {
    const locks = lockManager()
    const first = await tryLock(locks, 'k', 10_000)
    expect(first).toBeDefined()
    expect(await tryLock(locks, 'k', 10_000)).toBeUndefined()
    await first?.release()
    expect(await tryLock(locks, 'k', 10_000)).toBeDefined()
  })

  it('lets go by itself after ttlMs', async () => {
    vi.useFakeTimers()
    try {
      const locks = lockManager()
      await tryLock(locks, 'k', 1_000)
      await vi.advanceTimersByTimeAsync(1_000)
      expect(await tryLock(locks, 'k', 1_000)).toBeDefined()
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('exclusive', () => {
  it('a second caller waits for the holder, then answers from afterWait without working', async () => {
    const locks = lockManager()
    let finish!: (value: string) => void
    const holder = exclusive(locks, 'k', 10_000, () => new Promise<string>((resolve) => (finish = resolve)), async () => undefined)
    const work = vi.fn(async () => 'second')
    const waiter = exclusive(locks, 'k', 10_000, work, async () => 'stored by the holder')
    finish('first')
    expect(await holder).toBe('first')
    expect(await waiter).toBe('stored by the holder')
    expect(work).not.toHaveBeenCalled()
  })

  it('when afterWait has nothing, the waiter works itself', async () => {
    const locks = lockManager()
    let finish!: (value: string) => void
    const holder = exclusive(locks, 'k', 10_000, () => new Promise<string>((resolve) => (finish = resolve)), async () => undefined)
    const waiter = exclusive(locks, 'k', 10_000, async () => 'own', async () => undefined)
    finish('first')
    expect([await holder, await waiter]).toEqual(['first', 'own'])
  })

  it('past waitMs the waiter works without the lock', async () => {
    vi.useFakeTimers()
    try {
      const locks = lockManager()
      void exclusive(locks, 'k', 10_000, () => new Promise<string>(() => {}), async () => undefined)
      const afterWait = vi.fn(async () => 'never')
      const waiter = exclusive(locks, 'k', 500, async () => 'alone', afterWait)
      await vi.advanceTimersByTimeAsync(500)
      expect(await waiter).toBe('alone')
      expect(afterWait).not.toHaveBeenCalled()
    } finally {
      vi.useRealTimers()
    }
  })

  it("the work's own failure reaches its caller and frees the lock", async () => {
    const locks = lockManager()
    await expect(exclusive(locks, 'k', 10_000, async () => Promise.reject(new Error('origin down')), async () => undefined)).rejects.toThrow('origin down')
    expect(await exclusive(locks, 'k', 10_000, async () => 'next', async () => undefined)).toBe('next')
  })
})
