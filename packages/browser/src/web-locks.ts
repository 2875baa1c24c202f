/**
 * Cross-tab locks on the Web Locks API (`navigator.locks`): held by one tab of the origin at a time, released by
 * the browser when the tab holding one closes or crashes. Where the API does not exist (Node, old browsers,
 * some workers) every function here is unused and the callers keep their per-tab behaviour.
 */
import type { Lock } from '@tiercache/core'

/** The origin's lock manager, or undefined where the runtime has none. */
export function webLocks(): LockManager | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks
  return typeof locks?.request === 'function' ? locks : undefined
}

/**
 * Takes the lock `name` if no other holder has it, for at most `ttlMs` (core's lockTtl: a loader that hangs must
 * not keep the other tabs waiting forever); undefined when it is held. The shape of core's `Coordinator.lock`.
 */
export function tryLock(locks: LockManager, name: string, ttlMs: number): Promise<Lock | undefined> {
  return new Promise<Lock | undefined>((resolve, reject) => {
    locks
      .request(name, { ifAvailable: true }, (granted) => {
        if (granted === null) {
          resolve(undefined)
          return undefined
        }
        // The lock lasts as long as this promise is pending.
        return new Promise<void>((release) => {
          const timer = setTimeout(release, ttlMs)
          resolve({
            async release() {
              clearTimeout(timer)
              release()
            },
          })
        })
      })
      .catch(reject)
  })
}

/** What `exclusive` answers with when its caller should go on without the lock. */
const FREE = Symbol('free')

/**
 * Runs `work` holding the lock `name`, so that one tab does it while the others wait. A tab that finds the lock
 * held waits for it (at most `waitMs`), then asks `afterWait` first: the holder's result is usually stored by then
 * and answers it; when `afterWait` has nothing, it runs `work` itself, holding the lock in turn. When the holder
 * closes mid-work the browser releases its lock and the waiter goes on at once. Past `waitMs` it runs `work`
 * without the lock (a slow holder costs a second request, never a stuck caller).
 */
export async function exclusive<T>(locks: LockManager, name: string, waitMs: number, work: () => Promise<T>, afterWait: () => Promise<T | undefined>): Promise<T> {
  const first = await locks.request(name, { ifAvailable: true }, (granted) => (granted === null ? FREE : work()))
  if (first !== FREE) return first as T
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), waitMs)
  let granted = false
  try {
    return (await locks.request(name, { signal: controller.signal }, async () => {
      granted = true
      clearTimeout(timer)
      return (await afterWait()) ?? work()
    })) as T
  } catch (error) {
    // The wait ran out before the lock came: go on alone. A failure of the work itself is the caller's.
    if (!granted && controller.signal.aborted) return work()
    throw error
  } finally {
    clearTimeout(timer)
  }
}
