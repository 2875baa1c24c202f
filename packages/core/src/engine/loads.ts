import type { Lock } from '../coordinator.js'
import { EntryState, type Entry } from '../entry.js'
import { withDeadline } from '../runtime.js'
import { noop, type Background, type WaitUntil } from './background.js'
import type { Instrumentation } from './instrumentation.js'
import { isThenable, type Call, type LoaderRunner } from './loader.js'
import type { Locks } from './locks.js'
import type { ReadPath } from './read-path.js'

/** One running load of a key, foreground or background, that callers join. */
export interface Load {
  /** Tags of the policy the load started with, for invalidateTags. */
  tags: readonly string[] | undefined
  promise: Promise<Entry>
  /** The value promise every joining caller shares, made on first need. */
  value: Promise<unknown> | undefined
  /** Set when the loader answered synchronously: the load is already complete and written. */
  entry: Entry | undefined
}

export function valueOf(entry: Entry): unknown {
  return entry.value
}

/** The loads in flight, one per key: starting, joining, refreshing in the background, and writing back. */
export class Loads {
  /** One load per key at a time, foreground or background. */
  readonly loading = new Map<string, Load>()
  readonly #reads: ReadPath
  readonly #locks: Locks
  readonly #runner: LoaderRunner
  readonly #inst: Instrumentation
  readonly #background: Background
  readonly #now: () => number
  readonly #random: () => number

  constructor(
    reads: ReadPath,
    locks: Locks,
    runner: LoaderRunner,
    inst: Instrumentation,
    background: Background,
    now: () => number,
    random: () => number,
  ) {
    this.#reads = reads
    this.#locks = locks
    this.#runner = runner
    this.#inst = inst
    this.#background = background
    this.#now = now
    this.#random = random
  }

  /** A caller waits: joins the running load or starts one; a stale `fallback` answers a failure or a soft timeout. */
  async foreground(call: Call, fallback: Entry | undefined, fallbackTier: number): Promise<Entry> {
    const running = this.loading.get(call.full)
    if (running !== undefined) this.#inst.counters.coalesced++
    const load = running ?? this.start(call, fallback, this.#reads.tiers.length, false)
    let promise = load.promise
    if (fallback !== undefined && call.p.timeout > 0) {
      // Soft timeout: the stale value answers after p.timeout; the load goes on and fills the tiers.
      promise = withDeadline(promise, call.p.timeout, () => fallback)
    }
    try {
      const entry = await promise
      if (entry === fallback) {
        this.#inst.servedStale(call.key, 'timeout', fallback, fallbackTier)
        // The load outlives the answer; the host must keep it alive until it has filled the tiers.
        this.#background.track(load.promise, call.waitUntil)
      }
      return entry
    } catch (error) {
      if (fallback !== undefined && fallback.errorUntil !== undefined && this.#now() < fallback.errorUntil) {
        this.#inst.servedStale(call.key, 'error', fallback, fallbackTier)
        return fallback
      }
      throw error
    }
  }

  /** Starts a background refresh of a stale or early-expiring entry, unless one is already running. */
  refresh(call: Call, stale: Entry, lookFrom: number): void {
    if (this.loading.has(call.full)) return
    this.#inst.counters.refreshes++
    const load = this.start(call, stale, lookFrom, true)
    // Failures are already reported as events; the stale value keeps answering.
    this.#background.track(load.promise.catch(noop), call.waitUntil)
  }

  /** XFetch: refresh when now - loadMs * beta * ln(random) passes freshUntil. */
  refreshEarly(beta: number, loadMs: number, freshUntil: number, now: number): boolean {
    if (!(loadMs > 0)) return false
    return now - loadMs * beta * Math.log(this.#random()) >= freshUntil
  }

  /**
   * Runs the loader once for this key (registered so that concurrent callers and refreshes join it), after
   * checking tiers from `lookFrom` for a fresher entry and taking the coordinator's lock when there is one.
   */
  start(call: Call, stale: Entry | undefined, lookFrom: number, background: boolean): Load {
    const { key, full, waitUntil } = call
    const load: Load = { tags: call.p.tags, promise: undefined as unknown as Promise<Entry>, value: undefined, entry: undefined }
    if (lookFrom >= this.#reads.tiers.length && !this.#locks.enabled) {
      // Nothing to look up or lock first: the loader runs now. An immediate one completes synchronously and is
      // never registered; a promise is registered before anything can join or delete.
      let produced: Entry | Promise<Entry>
      try {
        produced = this.#runner.call(call, stale, background)
      } catch (error) {
        load.promise = Promise.reject(error)
        return load
      }
      if (!isThenable(produced)) {
        this.#commit(key, full, produced, undefined, true, waitUntil)
        load.entry = produced
        load.promise = Promise.resolve(produced)
        return load
      }
      load.promise = produced.then((entry) => {
        this.#commit(key, full, entry, undefined, this.loading.get(full) === load, waitUntil)
        return entry
      })
    } else {
      load.promise = this.#run(load, call, stale, lookFrom, background)
    }
    this.loading.set(full, load)
    const clear = (): void => {
      if (this.loading.get(full) === load) this.loading.delete(full)
    }
    load.promise.then(clear, clear)
    return load
  }

  /** Writes a loaded entry to every tier unless a delete or newer load claimed the key; releases the lock after. */
  #commit(key: string, full: string, entry: Entry, lock: Lock | undefined, current: boolean, waitUntil: WaitUntil | undefined): void {
    let written: Promise<unknown> | undefined
    if (current) {
      // The load just ended: its start plus its duration is now, without asking the clock again.
      written = this.#reads.tiers.writeAll(full, key, entry, entry.createdAt + (entry.loadMs ?? 0))
      if (this.#inst.listening) this.#inst.emit({ type: 'write', key, entry, source: 'load', at: this.#now() })
    }
    // Only a written entry is handed to waiters: one a delete or newer load overtook must not be served.
    if (lock !== undefined) this.#locks.release(lock, written, key, waitUntil, written === undefined ? undefined : entry)
    else if (written !== undefined) this.#background.track(written, waitUntil)
  }

  async #run(load: Load, call: Call, stale: Entry | undefined, lookFrom: number, background: boolean): Promise<Entry> {
    const { key, full, waitUntil } = call
    const reads = this.#reads
    // Another process may have refreshed a shared tier already.
    if (lookFrom < reads.tiers.length) {
      const found = await reads.find(key, full, lookFrom, waitUntil, false)
      if (found.entry !== undefined && found.state === EntryState.Fresh) {
        reads.fill(key, full, found.entry, found.tier, waitUntil)
        return found.entry
      }
    }
    let lock: Lock | undefined
    if (this.#locks.enabled) {
      const outcome = await this.#locks.acquire(key, full, waitUntil)
      if ('entry' in outcome) return outcome.entry
      lock = outcome.lock
    }
    let entry: Entry
    try {
      entry = await this.#runner.call(call, stale, background)
    } catch (error) {
      if (lock !== undefined) this.#locks.release(lock, undefined, key, waitUntil)
      throw error
    }
    this.#commit(key, full, entry, lock, this.loading.get(full) === load, waitUntil)
    return entry
  }
}
