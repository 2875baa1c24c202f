/** Hands background work (fills, refreshes, writes) to the host, e.g. a Worker's `ctx.waitUntil`. */
export type WaitUntil = (promise: Promise<unknown>) => void

export function noop(): void {}

/**
 * The method under which a cache made by createCache takes background work that another tiercache package started
 * for it (a cached fetch's background revalidation), so `idle()` and the host's waitUntil cover it too. A registered
 * symbol: it works across copies of core in one app.
 */
export const TRACK: unique symbol = Symbol.for('tiercache.track') as never

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

/**
 * Hands `work` to `cache`'s background (tracked by its idle(), given to its waitUntil) when the cache takes it; any
 * other object only gets the rejection absorbed.
 */
export function trackBackground(cache: object, work: Promise<unknown>): void {
  const track = (cache as { [TRACK]?: unknown })[TRACK]
  if (typeof track === 'function') (track as (work: Promise<unknown>) => void).call(cache, work)
  else void work.then(noop, noop)
}
