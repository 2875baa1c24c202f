import type { Coordinator, Lock } from '../coordinator.js'
import { EntryState, type Entry } from '../entry.js'
import { sleep } from '../runtime.js'
import type { Background, WaitUntil } from './background.js'
import type { Instrumentation } from './instrumentation.js'
import type { ReadPath } from './read-path.js'

/**
 * The coordinator's per-key locks: with tiers shared between processes, one process loads a missing key while
 * the others wait for a shared tier to fill.
 */
export class Locks {
  /** Whether loads take the coordinator's lock (it has locks and there are tiers to share). */
  readonly enabled: boolean
  readonly #coordinator: Coordinator
  readonly #ttl: number
  readonly #wait: number
  readonly #reads: ReadPath
  readonly #inst: Instrumentation
  readonly #background: Background

  constructor(coordinator: Coordinator, ttl: number, wait: number, reads: ReadPath, inst: Instrumentation, background: Background) {
    this.#coordinator = coordinator
    this.#ttl = ttl
    this.#wait = wait
    this.#reads = reads
    this.#inst = inst
    this.#background = background
    this.enabled = coordinator.lock !== undefined && reads.tiers.length > 1
  }

  /** Takes the coordinator's lock, or waits for whoever holds it to fill a shared tier. */
  async acquire(key: string, full: string, waitUntil: WaitUntil | undefined): Promise<{ entry: Entry } | { lock: Lock | undefined }> {
    const coordinator = this.#coordinator
    try {
      const lock = await (coordinator.lock as NonNullable<Coordinator['lock']>)(full, this.#ttl)
      if (lock !== undefined) return { lock }
    } catch (error) {
      // Without a working coordinator, loading is still correct; only the deduplication is lost.
      this.#inst.coordinatorFailed(coordinator.name, error, key)
      return { lock: undefined }
    }
    this.#inst.counters.lockWaits++
    let waited = 0
    for (let delay = 10; waited < this.#wait; delay = Math.min(delay * 2, 100)) {
      const step = Math.min(delay, this.#wait - waited)
      await sleep(step)
      waited += step
      const found = await this.#reads.find(key, full, 0, waitUntil, false)
      if (found.entry !== undefined && found.state === EntryState.Fresh) return { entry: found.entry }
    }
    return { lock: undefined }
  }

  /** Releases a coordinator lock once the shared tiers hold the result, so waiters find it there. */
  release(lock: Lock, written: Promise<unknown> | undefined, key: string, waitUntil: WaitUntil | undefined): void {
    const release = (written ?? Promise.resolve())
      .then(() => lock.release())
      .catch((error: unknown) => this.#inst.coordinatorFailed(this.#coordinator.name, error, key))
    this.#background.track(release, waitUntil)
  }
}
