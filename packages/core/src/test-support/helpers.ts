import { vi } from 'vitest'
import type { Coordinator } from '../coordinator.js'
import type { Entry } from '../entry.js'
import type { Store } from '../store.js'

/** A clock tests move by hand. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance(ms: number): void; set(t: number): void } {
  let t = start
  return {
    now: () => t,
    advance(ms: number) {
      t += ms
    },
    set(value: number) {
      t = value
    },
  }
}

/**
 * With vitest's fake timers: how many fake ms after the call `promise` settled, advancing the clock `step` ms at a
 * time up to `limit`; Infinity if it had not by then.
 */
export async function settledAfter(promise: Promise<unknown>, limit: number, step: number): Promise<number> {
  let done = false
  promise.then(
    () => (done = true),
    () => (done = true),
  )
  const start = Date.now()
  while (!done && Date.now() - start < limit) await vi.advanceTimersByTimeAsync(step)
  return done ? Date.now() - start : Number.POSITIVE_INFINITY
}

/** A promise with its resolve and reject in hand. */
export function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Lets queued microtasks and promise chains run. */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve()
}

type Behaviour = 'ok' | 'throw' | 'reject' | 'hang' | 'garbage'

/**
 * A store over a Map that counts calls and can be told to fail in each way a real tier fails.
 * Its get/set are genuinely asynchronous, like a network tier.
 */
export class ScriptedStore implements Store {
  readonly map = new Map<string, Entry>()
  readonly calls = { get: 0, getMany: 0, set: 0, setMany: 0, delete: 0 }
  behaviour: { get: Behaviour; set: Behaviour; delete: Behaviour } = { get: 'ok', set: 'ok', delete: 'ok' }
  maxTtl: number | undefined
  timeout: number | undefined
  getMany: Store['getMany']
  setMany: Store['setMany']

  constructor(
    readonly name: string,
    options: { batch?: boolean; maxTtl?: number; timeout?: number } = {},
  ) {
    this.maxTtl = options.maxTtl
    this.timeout = options.timeout
    if (options.batch !== false) {
      this.getMany = async (keys) => {
        this.calls.getMany++
        await this.#act(this.behaviour.get)
        return keys.map((key) => this.map.get(key))
      }
      this.setMany = async (items) => {
        this.calls.setMany++
        await this.#act(this.behaviour.set)
        for (const [key, entry] of items) this.map.set(key, entry)
      }
    }
  }

  async get(key: string): Promise<Entry | undefined> {
    this.calls.get++
    if (this.behaviour.get === 'garbage') return { not: 'an entry' } as unknown as Entry
    await this.#act(this.behaviour.get)
    return this.map.get(key)
  }

  async set(key: string, entry: Entry): Promise<void> {
    this.calls.set++
    await this.#act(this.behaviour.set)
    this.map.set(key, entry)
  }

  async delete(key: string): Promise<void> {
    this.calls.delete++
    await this.#act(this.behaviour.delete)
    this.map.delete(key)
  }

  async #act(behaviour: Behaviour): Promise<void> {
    if (behaviour === 'throw' || behaviour === 'reject') throw new Error(`${this.name} is down`)
    if (behaviour === 'hang') await new Promise(() => {})
    await Promise.resolve()
  }
}

/**
 * A coordinator named `name` whose stamps and invalidations are `base`'s (a memoryCoordinator), with `own` for what
 * a test scripts: its locks, a tag question that hangs, counters.
 */
export function scripted<T extends Partial<Coordinator>>(base: Coordinator, name: string, own: T): Coordinator & T {
  return {
    name,
    stamp: () => base.stamp(),
    tagStamp: (tags: readonly string[]) => base.tagStamp(tags),
    invalidateTags: (tags: readonly string[]) => base.invalidateTags(tags),
    ...own,
  }
}
