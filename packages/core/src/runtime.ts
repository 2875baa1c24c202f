/**
 * The few host primitives core touches that `lib: ES2022` does not declare.
 * Every runtime tiercache targets (browsers, Workers, Node >= 18, Deno, Bun) has them;
 * declaring them here keeps the core free of DOM, Node and Workers type packages.
 */

export interface TimerHandle {
  /** Node: do not keep the process alive for this timer. */
  unref?(): void
}

export interface AbortSignalLike {
  readonly aborted: boolean
  readonly reason: unknown
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}

export interface AbortControllerLike {
  readonly signal: AbortSignalLike
  abort(reason?: unknown): void
}

declare const setTimeout: (callback: () => void, ms: number) => TimerHandle
declare const clearTimeout: (handle: TimerHandle | undefined) => void
declare const AbortController: { new (): AbortControllerLike }

/** setTimeout fires at once for delays past 2^31 - 1 ms (about 24.8 days): longer ones wait this long. */
const MAX_TIMER_MS = 2_147_483_647

/**
 * Settles like `work`, unless `ms` pass first: then `onTimeout` decides, by returning the value to resolve with
 * or by throwing the error to reject with. Whatever `work` does later is absorbed (never an unhandled rejection).
 */
export function withDeadline<T>(work: T | Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        resolve(onTimeout())
      } catch (error) {
        reject(error)
      }
    }, ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms)
    Promise.resolve(work).then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms))
}

/** Resolves after `ms`, or as soon as `signal` aborts (its timer cleared then, so nothing waits out the rest). */
export function sleepUnlessAborted(ms: number, signal: AbortSignalLike | undefined): Promise<void> {
  if (signal === undefined) return sleep(ms)
  if (signal.aborted) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

export function createAbortController(): AbortControllerLike {
  return new AbortController()
}

/**
 * The clock createCache uses unless given one: in Node, coarseClock (a clock read costs about 90 ns on some VMs,
 * more than the rest of a cache hit); everywhere else Date.now itself. The coarse clock is only safe where timers
 * run between events: workerd does not run a timer set during a request once its response is sent, so there a
 * cached time would outlive the request. workerd with nodejs_compat imitates process.versions.node, hence the
 * user agent is checked first.
 */
export function defaultClock(): () => number {
  const { navigator, process } = globalThis as { navigator?: { userAgent?: unknown }; process?: { versions?: { node?: unknown } } }
  const agent = navigator?.userAgent
  const node = typeof agent === 'string' ? agent.startsWith('Node.js/') : typeof process?.versions?.node === 'string'
  return node ? coarseClock() : Date.now
}

/**
 * Date.now with a resolution of at most 1 ms or 16 reads, whichever ends first. The value is re-read after a
 * timer of 1 ms (at most one pending) and after 16 reads, so a loop that never yields to timers still sees time
 * move. Only for runtimes whose timers keep running between events (Node): see defaultClock.
 */
export function coarseClock(read: () => number = Date.now): () => number {
  let cached = 0
  let budget = 0
  let timerPending = false
  const expire = (): void => {
    timerPending = false
    budget = 0
  }
  return () => {
    if (budget > 0) {
      budget--
      return cached
    }
    cached = read()
    budget = 15
    if (!timerPending) {
      timerPending = true
      setTimeout(expire, 1).unref?.()
    }
    return cached
  }
}
