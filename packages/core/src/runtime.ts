/**
 * The few host primitives core touches that `lib: ES2022` does not declare.
 * Every runtime tiercache targets (browsers, Workers, Node >= 18, Deno, Bun) has them;
 * declaring them here keeps the core free of DOM, Node and Workers type packages.
 */

export interface TimerHandle {
  readonly __timer?: never
}

export interface AbortSignalLike {
  readonly aborted: boolean
  readonly reason: unknown
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}

interface AbortControllerLike {
  readonly signal: AbortSignalLike
  abort(reason?: unknown): void
}

declare const setTimeout: (callback: () => void, ms: number) => TimerHandle
declare const clearTimeout: (handle: TimerHandle | undefined) => void
declare const AbortController: { new (): AbortControllerLike }

export function startTimer(callback: () => void, ms: number): TimerHandle {
  return setTimeout(callback, ms)
}

export function stopTimer(handle: TimerHandle | undefined): void {
  if (handle !== undefined) clearTimeout(handle)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export function createAbortController(): AbortControllerLike {
  return new AbortController()
}
