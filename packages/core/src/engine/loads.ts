import type { Lock } from '../coordinator.js'
import { EntryState, type Entry } from '../entry.js'
import { FLIGHT_SLACK_MS, FLIGHT_STEP_MS, flightAlive, joinFlight, ownFlight, type Flight } from '../flight.js'
import type { ResolvedPolicy } from '../policy.js'
import { withDeadline } from '../runtime.js'
import type { Background, WaitUntil } from './background.js'
import type { Instrumentation } from './instrumentation.js'
import { isThenable, type Call, type LoadFlags, type LoaderRunner } from './loader.js'
import { foundState, type Answer } from './status.js'
import type { Locks } from './locks.js'
import type { Found, ReadPath } from './read-path.js'

/**
 * One load of a key, foreground or background, that callers join. Once settled it says how it answered (Answer:
 * loaded, or fresh when another process had filled a shared tier meanwhile) and what its loader asked for (flags).
 */
export interface Load extends LoadFlags, Answer {
  /** Tags of the policy the load started with, for invalidateTags. */
  tags: readonly string[] | undefined
  promise: Promise<Entry>
  /** The answer, set once the load completed (at once when the loader answered synchronously). */
  entry: Entry | undefined
  /** Its owner's liveness (flight.ts); the loads of one batch share one. */
  flight: Flight
}

export function newLoad(tags: readonly string[] | undefined): Load {
  return {
    tags,
    promise: undefined as unknown as Promise<Entry>,
    entry: undefined,
    skipped: false,
    noStale: false,
    state: 'loaded',
    tier: -1,
    refreshing: false,
    stored: false,
    flight: { beat: undefined, done: false },
  }
}

/** An answer to fill in, before anything is known. */
export function newAnswer(): Answer {
  return { state: 'loaded', tier: -1, refreshing: false, stored: false, skipped: false }
}

/** Refresh backoff: the pause after a key's first failed refresh, doubled per failure in a row up to the cap. */
const BACKOFF_BASE_MS = 1_000
const BACKOFF_CAP_MS = 30_000
/** Keys whose backoff is remembered at most (the oldest failure is forgotten first). */
const BACKOFF_KEYS = 10_000

export function valueOf(entry: Entry): unknown {
  return entry.value
}

/** The loads in flight, one per key: starting, joining, refreshing in the background, and writing back. */
export class Loads {
  /** One load per key at a time, foreground or background. */
  readonly loading = new Map<string, Load>()
  /**
   * Keys whose loads from a stale entry (refreshes, stale-if-error) failed in a row: how many, and until when the
   * loader is not called again while a stale value can answer. Insertion order = the oldest failure first.
   */
  readonly #failing = new Map<string, { failures: number; until: number }>()
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

  /**
   * A caller waits: joins the running load or starts one; a stale `fallback` answers a failure (unless the loader
   * said ctx.fail) or a soft timeout. `answer` is filled in with how the entry came about. A failure with no such
   * fallback waits for a read of `found` that ran past its tier's timeout (see ReadPath.lateEntry), within the call's
   * one bound on tiers and locks: until tierTimeout + lockWait after its read of the tiers began (call.since).
   */
  async foreground(call: Call, fallback: Entry | undefined, fallbackTier: number, answer: Answer, found?: Found): Promise<Entry> {
    const running = this.running(call.full)
    if (running !== undefined) this.#inst.counters.coalesced++
    else if (fallback !== undefined && this.backingOff(call.full) && this.#errorStale(fallback)) {
      // The loader of this key keeps failing: the stale value answers without calling it again (refresh backoff).
      this.#inst.served(call.key, 'error', fallback, fallbackTier)
      setAnswer(answer, 'stale-if-error', fallbackTier, false, false)
      return fallback
    }
    const load = running ?? this.start(call, fallback, this.#reads.tiers.length, false)
    // The load whose answer this caller gets: the one it started or joined, or its own when the joined one skipped
    // or its owner was gone (flight.ts).
    let done = load
    let promise =
      running === undefined
        ? load.promise
        : this.join(running, call, fallback).then((answered) => {
            done = answered
            return answered.entry as Entry
          })
    if (fallback !== undefined && call.p.timeout > 0) {
      // Soft timeout: the stale value answers after p.timeout; the load goes on and fills the tiers.
      promise = withDeadline(promise, call.p.timeout, () => fallback)
    }
    try {
      const entry = await promise
      if (entry === fallback) {
        this.#inst.served(call.key, 'timeout', fallback, fallbackTier)
        // The load outlives the answer; the host must keep it alive until it has filled the tiers (a joined load
        // is kept alive by its owner's host).
        if (running === undefined) this.#background.track(load.promise, call.waitUntil)
        setAnswer(answer, 'stale-on-timeout', fallbackTier, true, false)
      } else {
        setAnswer(answer, done.state, done.tier, false, done.stored)
        answer.skipped = done.skipped
      }
      return entry
    } catch (error) {
      let stale = fallback
      let tier = fallbackTier
      if (found?.lateRead !== undefined && !(stale !== undefined && this.#errorStale(stale))) {
        // The origin failed, but the tier that was too slow may answer yet.
        const locks = this.#locks
        if (await this.#reads.lateEntry(found, call.key, call.full, (call.since as number) + locks.budget + locks.wait, call.waitUntil)) {
          const entry = found.entry as Entry
          this.#inst.served(call.key, undefined, entry, found.tier)
          setAnswer(answer, foundState(entry, true), found.tier, false, false)
          return entry
        }
        stale = found.fallback
        tier = found.fallbackTier
      }
      if (!done.noStale && stale !== undefined && this.#errorStale(stale)) {
        this.#inst.served(call.key, 'error', stale, tier)
        setAnswer(answer, 'stale-if-error', tier, false, false)
        return stale
      }
      throw error
    }
  }

  /**
   * The load that answers a caller who joined `load`, once settled: `load` itself, or, when its loader said
   * ctx.skip() (an answer for its own caller only), a load of the caller's own loader that nobody joins. A caller
   * with a host waits as flight.ts says: when the owner of `load` is gone before it settled, the caller joins
   * whoever loads the key meanwhile or loads it itself (from `stale`, like a foreground load).
   */
  join(load: Load, call: Call, stale?: Entry): Promise<Load> {
    let gone = false
    const answered = load.promise.then(() => (load.skipped && !gone ? this.alone(call, newLoad(call.p.tags)) : load))
    if (call.waitUntil === undefined) return answered
    return joinFlight(load.flight, answered, call.waitUntil, () => {
      gone = true
      if (this.loading.get(call.full) === load) this.loading.delete(call.full)
      const current = this.running(call.full)
      if (current !== undefined) return this.join(current, call, stale)
      const own = this.start(call, stale, this.#reads.tiers.length, false)
      return own.promise.then(() => own)
    })
  }

  /**
   * How long callers wait on a load of policy `p` that another caller owns before loading themselves, however alive
   * its owner (flight.ts): what the load may take by the cache's own timeouts. A look at the tiers first when
   * `look`, then the lock when loads take one (its request and lockWait), the coordinator's stamp (the tier timeout)
   * and the loader (its hardTimeout). A step without a timeout of its own counts FLIGHT_STEP_MS, and FLIGHT_SLACK_MS
   * is added for timers that run late on a busy machine. `reads` more reads of the tiers come first (a caller's
   * read-and-decide that this load follows).
   */
  bound(p: ResolvedPolicy, look: boolean, reads = 0): number {
    const locks = this.#locks
    const read = locks.budget === 0 ? FLIGHT_STEP_MS : locks.budget
    const loader = p.hardTimeout > 0 ? p.hardTimeout : FLIGHT_STEP_MS
    // Without locks, a read-and-decide may still wait up to lockWait for a late tier read (see foreground).
    return (reads + (look ? 2 : 1)) * read + (locks.enabled ? read + locks.wait : reads > 0 ? locks.wait : 0) + loader + FLIGHT_SLACK_MS
  }

  /** The load of this key that runs with its owner alive (flight.ts), which a refresh or a miss joins. */
  running(full: string): Load | undefined {
    const load = this.loading.get(full)
    return load !== undefined && flightAlive(load.flight) ? load : undefined
  }

  /**
   * Runs the caller's own loader into `load`, unshared and unregistered; its answer is written unless it skips
   * too or another load of the key is running.
   */
  async alone(call: Call, load: Load): Promise<Load> {
    const entry = await this.#runner.call(call, undefined, false, load)
    load.entry = entry
    this.#commit(call.key, call.full, entry, undefined, !this.loading.has(call.full), call.waitUntil, load)
    return load
  }

  /** Whether `fallback` may answer a failed load now (stale-if-error). */
  #errorStale(fallback: Entry): boolean {
    return fallback.errorUntil !== undefined && this.#now() < fallback.errorUntil
  }

  /**
   * Whether the loads of this key from a stale entry failed lately: until the backoff ends, no refresh runs and a
   * stale-if-error value answers without the loader.
   */
  backingOff(full: string): boolean {
    if (this.#failing.size === 0) return false
    const failing = this.#failing.get(full)
    return failing !== undefined && this.#now() < failing.until
  }

  /**
   * Records how a load of this key ended. A failure of a load from a stale entry (unless its loader said ctx.fail)
   * backs the key off: 1 s after the first, doubling per failure in a row up to 30 s, times 0.75-1.25 from
   * `random` so that keys failing together do not retry together. A success ends the backoff.
   */
  settled(full: string, ok: boolean, fromStale: boolean, noStale: boolean): void {
    const failing = this.#failing
    if (ok || !fromStale || noStale) {
      if (failing.size !== 0) failing.delete(full)
      return
    }
    const failures = (failing.get(full)?.failures ?? 0) + 1
    const pause = Math.min(BACKOFF_BASE_MS * 2 ** (failures - 1), BACKOFF_CAP_MS) * (0.75 + this.#random() / 2)
    failing.delete(full)
    failing.set(full, { failures, until: this.#now() + pause })
    if (failing.size > BACKOFF_KEYS) failing.delete(failing.keys().next().value as string)
  }

  /** Starts a background refresh of a stale or early-expiring entry, unless one is already running or backing off. */
  refresh(call: Call, stale: Entry, lookFrom: number): void {
    if (this.running(call.full) !== undefined || this.backingOff(call.full)) return
    this.#inst.counters.refreshes++
    const load = this.start(call, stale, lookFrom, true)
    // Failures are already reported as events; the stale value keeps answering.
    this.#background.track(load.promise, call.waitUntil)
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
    const load = newLoad(call.p.tags)
    const look = lookFrom < this.#reads.tiers.length
    if (!look && !this.#locks.enabled) {
      // Nothing to look up or lock first: the loader runs now. An immediate one completes synchronously and is
      // never registered; a promise is registered before anything can join or delete.
      let produced: Entry | Promise<Entry>
      try {
        produced = this.#runner.call(call, stale, background, load)
      } catch (error) {
        this.settled(full, false, stale !== undefined, load.noStale)
        load.promise = Promise.reject(error)
        return load
      }
      if (!isThenable(produced)) {
        if (this.#failing.size !== 0) this.#failing.delete(full)
        this.#commit(key, full, produced, undefined, true, waitUntil, load)
        load.entry = produced
        load.promise = Promise.resolve(produced)
        load.flight.done = true
        return load
      }
      load.promise = produced.then((entry) => {
        load.entry = entry
        this.#commit(key, full, entry, undefined, this.loading.get(full) === load, waitUntil, load)
        return entry
      })
    } else {
      load.promise = this.#run(load, call, stale, lookFrom, background)
    }
    this.loading.set(full, load)
    const clear = (ok: boolean): void => {
      if (this.loading.get(full) === load) this.loading.delete(full)
      this.settled(full, ok, stale !== undefined, load.noStale)
    }
    load.promise.then(
      () => clear(true),
      () => clear(false),
    )
    ownFlight(load.flight, load.promise, waitUntil, { bound: this.bound(call.p, look), key, phase: 'loader' })
    return load
  }

  /**
   * Writes a loaded entry to every tier unless the loader skipped it or a delete or newer load claimed the key;
   * releases the lock after.
   */
  #commit(key: string, full: string, entry: Entry, lock: Lock | undefined, current: boolean, waitUntil: WaitUntil | undefined, load: Load): void {
    let written: Promise<unknown> | undefined
    load.stored = current && !load.skipped
    if (load.stored) {
      // The load just ended: its start plus its duration is now, without asking the clock again.
      written = this.#reads.tiers.writeAll(full, key, entry, entry.createdAt + (entry.loadMs ?? 0))
      // Reads begun before it lands may still find the entry this one replaces: they start no refresh of it. A write
      // that is already done (every tier synchronous) is told by the first tier itself (ReadPath.supersededAt).
      if (written !== undefined) this.#reads.order.landing(full, written, entry.createdAt)
      if (this.#inst.listening) this.#inst.emit({ type: 'write', key, entry, source: 'load', at: this.#now() })
    }
    // Only a written entry is handed to waiters: one a delete or newer load overtook must not be served.
    if (lock !== undefined) this.#locks.release(lock, written, key, waitUntil, written === undefined ? undefined : entry)
    else if (written !== undefined) this.#background.track(written, waitUntil)
  }

  async #run(load: Load, call: Call, stale: Entry | undefined, lookFrom: number, background: boolean): Promise<Entry> {
    const { key, full, waitUntil } = call
    const reads = this.#reads
    // The read's budget runs from the caller's read of the tiers, or from the look below when this load reads.
    const since = lookFrom < reads.tiers.length || call.since === undefined ? this.#now() : call.since
    // Another process may have refreshed a shared tier already: a fresh entry newer than the one being replaced
    // (the same entry, still fresh below, is no refresh: refresh-ahead and early refresh replace fresh entries).
    if (lookFrom < reads.tiers.length) {
      load.flight.phase = 'tiers'
      const found = await reads.find(key, full, lookFrom, waitUntil, false, call.p, this.#locks.intent)
      if (found.entry !== undefined && found.state === EntryState.Fresh && (stale === undefined || found.entry.createdAt > stale.createdAt)) {
        reads.fill(key, full, found.entry, found.tier, waitUntil)
        return foundElsewhere(load, found.entry, found.tier)
      }
    }
    let lock: Lock | undefined
    if (this.#locks.enabled) {
      load.flight.phase = 'lock'
      const outcome = await this.#locks.acquire(key, full, waitUntil, call.p, since)
      if ('entry' in outcome) return foundElsewhere(load, outcome.entry, outcome.tier)
      lock = outcome.lock
    }
    load.flight.phase = 'loader'
    let entry: Entry
    try {
      entry = await this.#runner.call(call, stale, background, load)
    } catch (error) {
      if (lock !== undefined) this.#locks.release(lock, undefined, key, waitUntil)
      throw error
    }
    load.entry = entry
    this.#commit(key, full, entry, lock, this.loading.get(full) === load, waitUntil, load)
    return entry
  }
}

/** A load that found a fresh entry in a tier (filled by another process meanwhile) instead of running the loader. */
function foundElsewhere(load: Load, entry: Entry, tier: number): Entry {
  load.entry = entry
  load.state = entry.negative === true ? 'negative' : 'fresh'
  load.tier = tier
  return entry
}

export function setAnswer(answer: Answer, state: Answer['state'], tier: number, refreshing: boolean, stored: boolean): void {
  answer.state = state
  answer.tier = tier
  answer.refreshing = refreshing
  answer.stored = stored
}
