/** Hands background work (fills, refreshes, writes) to the host, e.g. a Worker's `ctx.waitUntil`. */
export type WaitUntil = (promise: Promise<unknown>) => void

export function noop(): void {}

/** Background work of one cache: handed to the host's waitUntil when there is one, always tracked for idle(). */
export class Background {
  readonly #running = new Set<Promise<unknown>>()

  /** Tracks `promise` (never rejecting) and hands it to `waitUntil` when given. */
  track(promise: Promise<unknown>, waitUntil: WaitUntil | undefined): void {
    const settled = promise.then(noop, noop)
    this.#running.add(settled)
    void settled.then(() => this.#running.delete(settled))
    if (waitUntil !== undefined) {
      try {
        waitUntil(settled)
      } catch {
        // A host that refuses background work (a finished request) leaves it to run on its own.
      }
    }
  }

  /** Resolves once the background work started so far, and what it started, has settled. */
  idle(): Promise<void> {
    if (this.#running.size === 0) return Promise.resolve()
    return Promise.allSettled([...this.#running]).then(() => this.idle())
  }
}
