import type { Coordinator, Lock, LockAttempt } from '../coordinator.js'
import { entryState, EntryState, type Entry } from '../entry.js'
import { sleep, withDeadline } from '../runtime.js'
import type { Background, WaitUntil } from './background.js'
import type { ResolvedPolicy } from '../policy.js'
import type { ReadIntent } from '../store.js'
import type { Instrumentation } from './instrumentation.js'
import { notFound, type ReadPath } from './read-path.js'

/**
 * The coordinator's per-key locks: with tiers shared between processes, one process loads a missing key while
 * the others wait, for the holder's entry when the coordinator can hand it over (`acquire`), else for a shared
 * tier to fill (polling).
 */
export class Locks {
  /** Whether loads take the coordinator's lock (it has locks and there are tiers to share). */
  readonly enabled: boolean
  /** What the reads a load follows tell the stores: the lock's ttl, when loads take one (see ReadIntent). */
  readonly intent: ReadIntent | undefined
  readonly #coordinator: Pick<Coordinator, 'name' | 'lock' | 'acquire'>
  readonly #ttl: number
  readonly #wait: number
  /** How long past `wait` a coordinator's `acquire` may take before this process stops waiting (tierTimeout). */
  readonly #grace: number
  readonly #reads: ReadPath
  readonly #inst: Instrumentation
  readonly #background: Background
  readonly #now: () => number

  constructor(
    coordinator: Pick<Coordinator, 'name' | 'lock' | 'acquire'>,
    ttl: number,
    wait: number,
    grace: number,
    reads: ReadPath,
    inst: Instrumentation,
    background: Background,
    now: () => number,
  ) {
    this.#coordinator = coordinator
    this.#ttl = ttl
    this.#wait = wait
    this.#grace = grace
    this.#reads = reads
    this.#inst = inst
    this.#background = background
    this.#now = now
    this.enabled = (coordinator.lock !== undefined || coordinator.acquire !== undefined) && reads.tiers.length > 1
    this.intent = this.enabled ? Object.freeze({ lockTtl: ttl }) : undefined
  }

  /**
   * Takes the coordinator's lock, or waits for whoever holds it: for its shared entry, or a shared tier to fill.
   * What another process hands over or wrote is checked against `p`'s schema, as any read of a shared tier is.
   */
  async acquire(
    key: string,
    full: string,
    waitUntil: WaitUntil | undefined,
    p?: ResolvedPolicy,
  ): Promise<{ entry: Entry; tier: number } | { lock: Lock | undefined }> {
    const coordinator = this.#coordinator
    if (coordinator.acquire !== undefined) return this.#attempt(coordinator.acquire.bind(coordinator), key, full, waitUntil, p)
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
      const found = await this.#reads.find(key, full, 0, waitUntil, false, p)
      if (found.entry !== undefined && found.state === EntryState.Fresh) return { entry: found.entry, tier: found.tier }
    }
    return { lock: undefined }
  }

  /** The holder's outcome through the coordinator, on this process's own deadline; loads without a lock otherwise. */
  async #attempt(
    acquire: NonNullable<Coordinator['acquire']>,
    key: string,
    full: string,
    waitUntil: WaitUntil | undefined,
    p: ResolvedPolicy | undefined,
  ): Promise<{ entry: Entry; tier: number } | { lock: Lock | undefined }> {
    let attempt: LockAttempt
    try {
      const asked = acquire(full, this.#ttl, this.#wait)
      // tierTimeout 0 (no timeouts): the coordinator's own bound is the only one.
      attempt = await (this.#grace === 0 ? asked : withDeadline<LockAttempt>(asked, this.#wait + this.#grace, () => ({ status: 'timeout' })))
    } catch (error) {
      this.#inst.coordinatorFailed(this.#coordinator.name, error, key)
      return { lock: undefined }
    }
    if (attempt.status === 'acquired') return { lock: attempt.lock }
    this.#inst.counters.lockWaits++
    if (attempt.status !== 'shared') return { lock: undefined }
    // Judged like an entry read from the last (shared) tier (decoded by its codec when the holder handed it over as
    // that tier stores it); copied into the tiers above it.
    const reads = this.#reads
    const last = reads.tiers.length - 1
    const entry = await reads.tiers.adopt(last, full, key, attempt.entry)
    const found = notFound()
    if (p?.schema !== undefined) found.p = p
    if (entry !== undefined && (await reads.take(found, last, key, full, entry, waitUntil, false)) && found.state === EntryState.Fresh) {
      reads.fill(key, full, entry, last, waitUntil)
      return { entry, tier: last }
    }
    return { lock: undefined }
  }

  /**
   * Releases a coordinator lock once the shared tiers hold the result, so waiters find it there. A lock that can
   * share hands a fresh entry to its waiters at once; one with nothing to share is released at once, so its waiters
   * load without waiting further.
   */
  release(lock: Lock, written: Promise<unknown> | undefined, key: string, waitUntil: WaitUntil | undefined, entry?: Entry): void {
    const failed = (error: unknown): void => this.#inst.coordinatorFailed(this.#coordinator.name, error, key)
    if (lock.share !== undefined) {
      if (entry === undefined || entryState(entry, this.#now()) !== EntryState.Fresh) {
        this.#background.track(lock.release().catch(failed), waitUntil)
        return
      }
      this.#background.track(lock.share(entry).catch(failed), waitUntil)
    }
    const release = (written ?? Promise.resolve()).then(() => lock.release()).catch(failed)
    this.#background.track(release, waitUntil)
  }
}
