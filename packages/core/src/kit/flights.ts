/**
 * Shared in-flight work by key: while the work for a key runs, every caller for that key gets the same promise;
 * once it settles it is forgotten, and the next call starts anew.
 *
 * Within one caller's lifetime only: nothing here bounds a wait or notices an owner that is gone. In Workers, a
 * request that awaits a promise another request started is cancelled as hung, or waits for ever once that request
 * has ended; share work between requests through the cache (getOrSet, whose joiners keep their own
 * deadline: core's flight.ts), not through Flights.
 *
 * @example
 * const flights = new Flights<string, Response>()
 * const response = await flights.run(url, () => fetch(url)) // one request for concurrent callers
 */
export class Flights<K, T> {
  readonly #running = new Map<K, Promise<T>>()

  /** The running promise for `key`, or a new one from `start()`. */
  run(key: K, start: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key)
    if (running !== undefined) return running
    let promise: Promise<T>
    try {
      promise = Promise.resolve(start())
    } catch (error) {
      promise = Promise.reject(error)
    }
    this.#running.set(key, promise)
    const forget = (): void => {
      if (this.#running.get(key) === promise) this.#running.delete(key)
    }
    promise.then(forget, forget)
    return promise
  }

  /** Whether work for `key` is running. */
  has(key: K): boolean {
    return this.#running.has(key)
  }

  /** Stops sharing the running work for `key`: the next call starts anew (the work itself goes on). */
  forget(key: K): void {
    this.#running.delete(key)
  }

  get size(): number {
    return this.#running.size
  }
}
