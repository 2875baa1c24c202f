import { EntryState, type Entry } from '../entry.js'
import { flightAlive, joinFlight, ownFlight, type Flight } from '../flight.js'
import type { ResolvedPolicy } from '../policy.js'
import type { ReadIntent, Store } from '../store.js'
import { copyEntry, type Tiers } from '../tiered.js'
import type { WaitUntil } from './background.js'
import type { Instrumentation } from './instrumentation.js'
import type { Call, Loader } from './loader.js'
import { newAnswer, newLoad, setAnswer, type Load, type Loads } from './loads.js'
import type { ReadPath } from './read-path.js'
import type { Hooks } from './strategy.js'
import { TagState, type Tags } from './tags.js'
import { foundState, report, type Answer, type ReadStatus } from './status.js'

/** The one read-and-decide of a key that concurrent callers share. */
export interface Pending {
  tags: readonly string[] | undefined
  entry: Promise<Entry>
  /** How it was answered, known once `entry` resolved. */
  answer: Answer
  /** Its owner's liveness (flight.ts). */
  flight: Flight
}

function loadValue(load: Load): unknown {
  return (load.entry as Entry).value
}

/** Fills `status` with how `load` answered, a load of `tiers`'s engine. */
export function reportLoad(status: ReadStatus, load: Load, tiers: Tiers, collapsed = false): void {
  report(status, load.state, load.tier, tiers, load.entry, collapsed, false, load.stored)
}

/**
 * getOrSet past the engine's fast path: an entry of the sync L1 the fast path did not serve (stale, tagged, asked for
 * status, or under a policy with refreshes), a miss of a lone sync L1 (load at once), and the calls the sync L1 did
 * not answer: the one read-and-decide of a key that concurrent callers share (read the tiers, then serve, refresh or
 * load), joining a load in flight, and the status reports of those answers.
 */
export class SharedReads {
  /** One read-and-decide per key at a time: concurrent callers share it (the engine's, which writes clear). */
  readonly #pending: Map<string, Pending>
  readonly #tiers: Tiers
  readonly #inst: Instrumentation
  readonly #tags: Tags
  readonly #reads: ReadPath
  readonly #loads: Loads
  /** What getOrSet's reads tell the stores (see ReadIntent), when loads take the coordinator's lock. */
  readonly #loadIntent: ReadIntent | undefined
  /** The hooks of options.strategies (see strategy.ts); undefined without strategies. */
  readonly #hooks: Hooks | undefined
  readonly #now: () => number

  constructor(
    pending: Map<string, Pending>,
    tiers: Tiers,
    inst: Instrumentation,
    tags: Tags,
    reads: ReadPath,
    loads: Loads,
    loadIntent: ReadIntent | undefined,
    hooks: Hooks | undefined,
    now: () => number,
  ) {
    this.#pending = pending
    this.#tiers = tiers
    this.#inst = inst
    this.#tags = tags
    this.#reads = reads
    this.#loads = loads
    this.#loadIntent = loadIntent
    this.#hooks = hooks
    this.#now = now
  }

  /**
   * The value for a caller who joined `load`: its answer, or the caller's own when the loader skipped or (with a
   * host) the load's owner was gone (flight.ts).
   */
  join(load: Load, call: Call, status: ReadStatus | undefined): Promise<unknown> {
    if (status === undefined && call.waitUntil === undefined) {
      return load.promise.then((entry) => (load.skipped ? this.#loads.alone(call, newLoad(call.p.tags)).then(loadValue) : entry.value))
    }
    return this.#loads.join(load, call).then((done) => {
      if (status !== undefined) reportLoad(status, done, this.#tiers, done === load)
      return loadValue(done)
    })
  }

  /**
   * Joins or starts the one read-and-decide of this key; joiners share its answer unless its loader skipped. A
   * caller with a host (a request of its own) waits on another's read as flight.ts says, and reads itself when
   * that caller is gone.
   */
  read(call: Call, status: ReadStatus | undefined): Promise<unknown> {
    const shared = this.#pending.get(call.full)
    if (shared !== undefined && flightAlive(shared.flight)) {
      this.#inst.counters.coalesced++
      return this.#joinPending(call, shared, status)
    }
    const pending = this.#startPending(call)
    return pending.entry.then((entry) => {
      if (status !== undefined) this.#reportShared(status, pending, entry, false)
      return entry.value
    })
  }

  #startPending(call: Call): Pending {
    const pending: Pending = { tags: call.p.tags, entry: undefined as unknown as Promise<Entry>, answer: newAnswer(), flight: { beat: undefined, done: false } }
    pending.entry = this.#resolve(call, pending.answer, pending.flight)
    this.#pending.set(call.full, pending)
    const clear = (): void => {
      if (this.#pending.get(call.full) === pending) this.#pending.delete(call.full)
    }
    pending.entry.then(clear, clear)
    // Joiners wait for this caller's read of the tiers and the load that may follow it, as long as those may take.
    ownFlight(pending.flight, pending.entry, call.waitUntil, { bound: this.#loads.bound(call.p, false, 1), key: call.key, phase: 'read' })
    return pending
  }

  #joinPending(call: Call, shared: Pending, status: ReadStatus | undefined): Promise<unknown> {
    let gone = false
    const answered = shared.entry.then((entry) => {
      if (gone) return undefined
      // The answer was for the caller whose loader skipped it: this one runs its own loader.
      if (shared.answer.skipped) {
        return this.#loads.alone(call, newLoad(call.p.tags)).then((done) => {
          if (status !== undefined) reportLoad(status, done, this.#tiers)
          return loadValue(done)
        })
      }
      if (status !== undefined) this.#reportShared(status, shared, entry, true)
      return entry.value
    })
    if (call.waitUntil === undefined) return answered
    return joinFlight<unknown>(shared.flight, answered, call.waitUntil, () => {
      gone = true
      if (this.#pending.get(call.full) === shared) this.#pending.delete(call.full)
      const current = this.#pending.get(call.full)
      if (current !== undefined && flightAlive(current.flight)) return this.#joinPending(call, current, status)
      const pending = this.#startPending(call)
      return pending.entry.then((entry) => {
        if (status !== undefined) this.#reportShared(status, pending, entry, false)
        return entry.value
      })
    })
  }

  #reportShared(status: ReadStatus, pending: Pending, entry: Entry, collapsed: boolean): void {
    const { answer } = pending
    report(status, answer.state, answer.tier, this.#tiers, entry, collapsed, answer.refreshing, answer.stored)
  }

  async #resolve(call: Call, answer: Answer, flight: Flight): Promise<Entry> {
    // A miss here is followed by a load: a store linked to the coordinator may take its lock in the same read.
    // The read and that lock share one budget, counted from here.
    // (And a failed load waits for a late tier read within that budget and lockWait: see Loads.foreground.)
    call.since = this.#now()
    const found = await this.#reads.find(call.key, call.full, 0, call.waitUntil, true, call.p, this.#loadIntent)
    const { entry } = found
    if (entry !== undefined) {
      const { earlyRefresh } = call.p
      if (
        (found.state === EntryState.Stale ||
          (earlyRefresh > 0 && this.#loads.refreshEarly(earlyRefresh, entry.loadMs ?? NaN, entry.freshUntil, this.#now()))) &&
        !this.#reads.superseded(call.full, found)
      ) {
        this.#loads.refresh(call, entry, found.tier + 1)
      } else if (call.p.refreshAhead || call.p.sliding) this.#hooks?.fresh?.(call, entry, found.tier, this.#now())
      setAnswer(answer, foundState(entry, found.state === EntryState.Fresh), found.tier, this.#loads.loading.has(call.full), false)
      return entry
    }
    this.#inst.counters.totalMisses++
    flight.phase = 'load'
    return this.#loads.foreground(call, found.fallback, found.fallbackTier, answer, found)
  }

  /**
   * What follows a read of the sync L1 that was not a plain fresh hit: `e` is its entry (read at `now`), undefined when
   * it had none, null when it failed. The call comes in parts: a read served from L1 that starts no work (a read
   * joining a refresh in flight) makes no Call.
   */
  afterL1(
    e: Entry | undefined | null,
    now: number,
    key: string,
    full: string,
    loader: Loader<unknown>,
    p: ResolvedPolicy,
    waitUntil: WaitUntil | undefined,
    status: ReadStatus | undefined,
  ): Promise<unknown> {
    const inst = this.#inst
    const counters = inst.counters
    const l1 = this.#tiers.stores[0] as Store
    if (e !== undefined && e !== null) {
      // An entry the fast path did not serve: judged by its times and tags, served fresh or stale (with what that
      // triggers) when it may be; else the shared read below decides.
      const freshUntil = e.freshUntil
      const tags = e.tags
      let fresh = now < freshUntil
      let servable = now < e.staleUntil
      if (servable && tags !== undefined) {
        // Served here only on a synchronous answer: not killed by a hard invalidation; a fresh entry a soft one
        // covers is served stale (and refreshed) when it has an swr window, else the shared read below decides.
        const tagged = fresh ? this.#tags.state(tags, e) : this.#tags.alive(tags, e) === true ? TagState.Alive : undefined
        if (tagged === TagState.Soft && e.staleUntil > freshUntil) fresh = false
        else if (tagged !== TagState.Alive) servable = false
      }
      if (servable) {
        const value = e.value
        // `e` is the store's view of its slot (memoryStore), which the store's next read moves to another key. Code
        // of the caller's that runs from here (a loader started at once, a listener, a strategy) may read the store,
        // so what is kept of the entry is copied before any of it runs; a read that joins the refresh in flight and
        // tells no one copies nothing (most reads of a stale burst).
        if (status !== undefined) report(status, foundState(e, fresh), 0, this.#tiers, e)
        if (fresh) {
          counters.bump(counters.hits, 0)
          counters.totalHits++
          const early = p.earlyRefresh > 0 && this.#loads.refreshEarly(p.earlyRefresh, e.loadMs ?? NaN, freshUntil, now)
          const hit = inst.listening && copyEntry(e)
          const ahead = (p.refreshAhead || p.sliding) && copyEntry(e)
          if (early) this.#loads.refresh({ key, full, loader, p, waitUntil }, copyEntry(e), 1)
          if (hit) inst.emit({ type: 'hit', key, tier: l1.name, tierIndex: 0, entry: hit, at: now })
          if (ahead) this.#hooks?.fresh?.({ key, full, loader, p, waitUntil }, ahead, 0, now)
        } else {
          let stale: Entry | undefined
          counters.bump(counters.staleHits, 0)
          counters.totalStale++
          if (inst.listening) inst.emit({ type: 'stale', key, tier: l1.name, tierIndex: 0, reason: 'swr', entry: (stale = copyEntry(e)), at: now })
          if (this.#loads.running(full) === undefined) this.#loads.refresh({ key, full, loader, p, waitUntil }, stale ?? copyEntry(e), 1)
        }
        if (status !== undefined) status.refreshing = this.#loads.loading.has(full)
        return Promise.resolve(value)
      }
    }
    const call: Call = { key, full, loader, p, waitUntil }
    if (e === undefined && this.#tiers.length === 1) {
      // Nothing cached and nothing below L1: join the load in flight, or load now.
      const running = this.#loads.running(full)
      if (running !== undefined) {
        counters.coalesced++
        return this.join(running, call, status)
      }
      counters.bump(counters.misses, 0)
      counters.totalMisses++
      if (inst.listening) inst.emit({ type: 'miss', key, tier: l1.name, tierIndex: 0, at: this.#now() })
      const load = this.#loads.start(call, undefined, 1, false)
      if (load.entry !== undefined) {
        if (status !== undefined) reportLoad(status, load, this.#tiers)
        return Promise.resolve(load.entry.value)
      }
      return load.promise.then((entry) => {
        if (status !== undefined) reportLoad(status, load, this.#tiers)
        return entry.value
      })
    }
    return this.read(call, status)
  }
}
