import type { Coordinator, Lock, LockAttempt } from '../coordinator.js'
import { entryState, EntryState, type Entry } from '../entry.js'
import { sleep, withDeadline } from '../runtime.js'
import { noop, type Background, type WaitUntil } from './background.js'
import type { ResolvedPolicy } from '../policy.js'
import type { ReadIntent } from '../store.js'
import type { Instrumentation } from './instrumentation.js'
import { notFound, type ReadPath } from './read-path.js'

/** A lock request (or acquire) that did not answer within what was left of the read's budget (plus lockWait). */
const LATE = Symbol('late')

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
  /** The read's budget, shared by the tier reads and the lock request: the longest tier timeout; 0 = unbounded. */
  readonly #budget: number
  readonly #reads: ReadPath
  readonly #inst: Instrumentation
  readonly #background: Background
  readonly #now: () => number

  constructor(
    coordinator: Pick<Coordinator, 'name' | 'lock' | 'acquire'>,
    ttl: number,
    wait: number,
    tierTimeout: number,
    reads: ReadPath,
    inst: Instrumentation,
    background: Background,
    now: () => number,
  ) {
    this.#coordinator = coordinator
    this.#ttl = ttl
    this.#wait = wait
    this.#budget = tierTimeout === 0 ? 0 : Math.max(tierTimeout, ...reads.tiers.stores.map((store) => store.timeout ?? 0))
    this.#reads = reads
    this.#inst = inst
    this.#background = background
    this.#now = now
    this.enabled = (coordinator.lock !== undefined || coordinator.acquire !== undefined) && reads.tiers.length > 1
    this.intent = this.enabled ? Object.freeze({ lockTtl: ttl }) : undefined
  }

  /** The read's budget (the longest tier timeout; 0 = unbounded) and how long a holder is waited for (lockWait). */
  get budget(): number {
    return this.#budget
  }

  get wait(): number {
    return this.#wait
  }

  /**
   * Takes the coordinator's lock, or waits for whoever holds it: for its shared entry, or a shared tier to fill.
   * What another process hands over or wrote is checked against `p`'s schema, as any read of a shared tier is.
   *
   * One bound on the wait (with tierTimeout > 0): the lock request gets what is left of the read's budget (the
   * tier timeout, counted from `since`, when the read of the tiers began), so a slow shared tier is not waited out
   * twice; waiting for the holder ends `lockWait` later on the clock, whatever the polling reads cost. A caller
   * waits on tiers and locks at most budget + lockWait, then loads; when the tiers used the whole budget, at most
   * the budget (the lock is taken only if the answer is at hand).
   */
  async acquire(
    key: string,
    full: string,
    waitUntil: WaitUntil | undefined,
    p: ResolvedPolicy | undefined,
    since: number,
  ): Promise<{ entry: Entry; tier: number } | { lock: Lock | undefined }> {
    const coordinator = this.#coordinator
    // What is left of the read's budget for the lock request (Infinity: no timeouts). None left (a slow shared
    // tier): the request is still sent, since the read may have taken the lock for this process (ReadIntent), but
    // only an answer already at hand is waited for; a lock granted later is released.
    const left = this.#budget === 0 ? Infinity : Math.max(since + this.#budget - this.#now(), 0)
    if (coordinator.acquire !== undefined) return this.#attempt(coordinator.acquire.bind(coordinator), key, full, waitUntil, p, left)
    let lock: Lock | undefined
    try {
      const asked = (coordinator.lock as NonNullable<Coordinator['lock']>)(full, this.#ttl)
      const answer = left === Infinity ? await asked : await withDeadline<Lock | undefined | typeof LATE>(asked, left, () => LATE)
      if (answer === LATE) {
        // A lock granted after this caller stopped waiting is nobody's: hand it back, or its waiters wait it out.
        asked.then((late) => late?.release()).catch(noop)
        throw new Error(`no answer to lock within ${Math.ceil(left)} ms (what the tier reads left of ${this.#budget} ms)`)
      }
      lock = answer
    } catch (error) {
      // Without a working coordinator, loading is still correct; only the deduplication is lost.
      this.#inst.coordinatorFailed(coordinator.name, error, key)
      return { lock: undefined }
    }
    if (lock !== undefined) return { lock }
    this.#inst.counters.lockWaits++
    // Polling ends on the clock: the reads between the pauses count against lockWait too. The pauses alone end it
    // as well (a clock that stands still, as an injected one may, cannot make it wait longer than before).
    const end = this.#now() + this.#wait
    for (let delay = 10, paused = 0, rest = this.#wait; rest > 0; delay = Math.min(delay * 2, 100)) {
      const pause = Math.min(delay, rest)
      await sleep(pause)
      paused += pause
      rest = Math.min(end - this.#now(), this.#wait - paused)
      const found = await withDeadline(this.#reads.find(key, full, 0, waitUntil, false, p), Math.max(rest, 0), notFound)
      if (found.entry !== undefined && found.state === EntryState.Fresh) return { entry: found.entry, tier: found.tier }
      rest = Math.min(end - this.#now(), this.#wait - paused)
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
    left: number,
  ): Promise<{ entry: Entry; tier: number } | { lock: Lock | undefined }> {
    let attempt: LockAttempt
    // What a holder hands over may be re-encrypted (ReadPath.reencrypt) unless the key is written meanwhile.
    const token = this.#reads.order.token()
    try {
      const asked = acquire(full, this.#ttl, this.#wait)
      // No timeouts (tierTimeout 0): the coordinator's own bound is the only one. Nothing left of the read's budget
      // (a slow shared tier, often the coordinator's own storage): as for `lock`, only an answer at hand is taken
      // (a lock the read took for this process); else the lock request's own round trip would stack on the tier
      // timeout (endpoint-slow: p99 +2.2 s, a read timeout then a lock timeout).
      const deadline = left === 0 ? 0 : left + this.#wait
      const answer = await (left === Infinity ? asked : withDeadline<LockAttempt | typeof LATE>(asked, deadline, () => LATE))
      if (answer === LATE) {
        asked.then((granted) => (granted.status === 'acquired' ? granted.lock.release() : undefined)).catch(noop)
        // Reported as the lock request's failure (as `lock` does): no holder was waited for.
        if (left === 0) throw new Error(`no answer to acquire at hand (the tier reads used all of ${this.#budget} ms)`)
        attempt = { status: 'timeout' }
      } else attempt = answer
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
    if (entry !== undefined && (await reads.take(found, last, key, entry, false)) && found.state === EntryState.Fresh) {
      // What take judged servable: the entry, or its value migrated to the policy's schema.
      const served = found.entry as Entry
      reads.fill(key, full, served, last, waitUntil)
      if (reads.tiers.rewrite !== undefined) reads.reencrypt(key, full, served, last, token, waitUntil)
      return { entry: served, tier: last }
    }
    return { lock: undefined }
  }

  /**
   * Releases a coordinator lock once the shared tiers hold the result, so waiters find it there. A lock that can
   * share hands a fresh entry to its waiters at once; one with nothing to share is released at once, so its waiters
   * load without waiting further. The release waits for the hand-over to settle too: share and release are separate
   * requests, and a release that overtook its share (a share carries the entry, a release nothing) would send every
   * waiter to the loader.
   */
  release(lock: Lock, written: Promise<unknown> | undefined, key: string, waitUntil: WaitUntil | undefined, entry?: Entry): void {
    const failed = (error: unknown): void => this.#inst.coordinatorFailed(this.#coordinator.name, error, key)
    let shared: Promise<unknown> | undefined
    if (lock.share !== undefined) {
      if (entry === undefined || entryState(entry, this.#now()) !== EntryState.Fresh) {
        this.#background.track(lock.release().catch(failed), waitUntil)
        return
      }
      shared = lock.share(entry).catch(failed)
    }
    const before = shared === undefined ? written : written === undefined ? shared : Promise.all([written, shared])
    const release = (before ?? Promise.resolve()).then(() => lock.release()).catch(failed)
    this.#background.track(release, waitUntil)
  }
}
