import { checkFunction, typeOf } from '../duration.js'
import { EntryState, type Entry } from '../entry.js'
import { joinFlight, ownFlight, type Flight } from '../flight.js'
import type { Policy, ResolvedPolicy } from '../policy.js'
import type { Background, WaitUntil } from './background.js'
import type { Instrumentation } from './instrumentation.js'
import type { Keys } from './keys.js'
import type { BatchLoader, BatchPolicy, LoaderRunner } from './loader.js'
import { newLoad, type Load, type Loads } from './loads.js'
import type { Policies } from './policies.js'
import { notFound, type Found, type ReadPath } from './read-path.js'

/** getManyOrSet: one read per tier for every key, one loadMany call for the misses, joined with single-key loads. */
export class Batches {
  readonly #keys: Keys
  readonly #policies: Policies
  readonly #reads: ReadPath
  readonly #loads: Loads
  readonly #runner: LoaderRunner
  readonly #inst: Instrumentation
  readonly #background: Background
  readonly #now: () => number

  constructor(
    keys: Keys,
    policies: Policies,
    reads: ReadPath,
    loads: Loads,
    runner: LoaderRunner,
    inst: Instrumentation,
    background: Background,
    now: () => number,
  ) {
    this.#keys = keys
    this.#policies = policies
    this.#reads = reads
    this.#loads = loads
    this.#runner = runner
    this.#inst = inst
    this.#background = background
    this.#now = now
  }

  async getManyOrSet<V>(
    keys: readonly string[],
    loadMany: BatchLoader<V>,
    policy: BatchPolicy | undefined,
    waitUntil: WaitUntil | undefined,
    /** getManyOrSet's `options.errors`: a key whose load failed with nothing to answer is undefined, its error here. */
    errors?: unknown[],
  ): Promise<(V | null | undefined)[]> {
    if (!Array.isArray(keys)) throw new TypeError(`keys must be an array of strings, got ${typeOf(keys)}`)
    checkFunction(loadMany, 'loadMany')
    const fulls = keys.map((key, i) => this.#keys.full(key, `keys[${i}]`))
    const shared = typeof policy === 'function' ? undefined : this.#policies.resolve(policy)
    // Unique keys still unanswered, in first-seen order, with each one's key as given and its policy.
    let open: string[] = []
    const userKey = new Map<string, string>()
    const policies = new Map<string, ResolvedPolicy>()
    fulls.forEach((full, i) => {
      if (userKey.has(full)) return
      const key = keys[i] as string
      userKey.set(full, key)
      open.push(full)
      policies.set(
        full,
        shared ?? this.#policies.resolve((policy as (key: string) => Partial<Policy> | undefined)(key), `policy(${JSON.stringify(key)})`),
      )
    })
    const tiers = this.#reads.tiers
    const reads = this.#reads
    const counters = this.#inst.counters
    const results = new Map<string, Entry>()
    const finds = new Map<string, Found>()
    const stale: string[] = []
    const token = reads.order.token()
    const users = (fulls: string[]): string[] => fulls.map((full) => userKey.get(full) as string)
    /** The keys read early from tier i (below), and what it answered. */
    let ahead: string[] = []
    let early: Promise<(Entry | undefined)[]> | undefined
    for (let i = 0; i < tiers.length && open.length > 0; i++) {
      // Only when the early keys are exactly the open ones (a tag or a schema can turn more keys away).
      const entries = await (early !== undefined && open.length === ahead.length && open.every((full, n) => full === ahead[n]) ? early : tiers.readMany(i, open, users(open)))
      const now = this.#now()
      // Keys with nothing servable here (no entry, or one past its swr window: error-stale at best) read the next tier
      // now, while the tag questions of the others are under way: a slow coordinator and a slow next tier then cost
      // the longer of the two, not both (issue 9's endpoint-slow batches).
      ahead = open.filter((_, n) => (entries[n]?.staleUntil ?? 0) <= now)
      early = i + 1 < tiers.length && ahead.length > 0 ? tiers.readMany(i + 1, ahead, users(ahead)) : undefined
      const next: string[] = []
      const filled: (readonly [string, string, Entry])[] = []
      // Every key's entry is judged at once: the tag questions of several keys (each bounded by the tier timeout)
      // run side by side rather than one after the other.
      const taken = await Promise.all(
        open.map((full, n) => {
          let found = finds.get(full)
          if (found === undefined) {
            finds.set(full, (found = notFound(token)))
            const p = policies.get(full) as ResolvedPolicy
            if (p.schema !== undefined) found.p = p
          }
          return reads.take(found, i, userKey.get(full) as string, entries[n], true)
        }),
      )
      for (let n = 0; n < open.length; n++) {
        const full = open[n] as string
        const key = userKey.get(full) as string
        const found = finds.get(full) as Found
        if (!taken[n]) {
          next.push(full)
          continue
        }
        const entry = found.entry as Entry
        results.set(full, entry)
        if (found.state === EntryState.Stale) stale.push(full)
        else {
          // As in ReadPath.find: only fresh entries are copied up (a stale one is about to be replaced by its
          // refresh), and re-encrypted when read under an old key.
          if (i > 0) filled.push([full, key, entry])
          if (tiers.rewrite !== undefined) reads.reencrypt(key, full, entry, i, token, waitUntil)
        }
      }
      if (filled.length > 0) reads.fillMany(filled, i, waitUntil)
      open = next
    }

    const loading = this.#loads.loading
    /** Per key, the error of a load that failed with no stale copy to answer. */
    let failures: Map<string, unknown> | undefined
    if (stale.length > 0) {
      // Not the keys a load stored meanwhile (see ReadPath.superseded): what the read found is older than the tiers.
      const refresh = stale.filter((full) => this.#loads.running(full) === undefined && !this.#loads.backingOff(full) && !reads.supersededAt(full, token, (results.get(full) as Entry).createdAt))
      if (refresh.length > 0) {
        counters.refreshes += refresh.length
        this.#start(refresh, userKey, loadMany, policies, true, waitUntil, undefined)
      }
    }

    if (open.length > 0) {
      counters.totalMisses += open.length
      // Keys another call is loading already are joined; the rest go to one loadMany call.
      const loads = new Map<string, Promise<Entry>>()
      const joined = new Map<string, Load>()
      const missing: string[] = []
      const now = this.#now()
      for (const full of open) {
        const running = this.#loads.running(full)
        if (running === undefined) {
          const { fallback, fallbackTier } = finds.get(full) as Found
          if (fallback?.errorUntil !== undefined && now < fallback.errorUntil && this.#loads.backingOff(full)) {
            // The loader keeps failing for this key: its stale value answers without a load (refresh backoff).
            this.#inst.served(userKey.get(full) as string, 'error', fallback, fallbackTier)
            loads.set(full, Promise.resolve(fallback))
            continue
          }
          missing.push(full)
          continue
        }
        counters.coalesced++
        joined.set(full, running)
        // With a host, another caller's load is waited on as flight.ts says: if that caller is gone, this one
        // loads the key itself.
        const redo = (): Promise<Entry> => {
          joined.delete(full)
          if (loading.get(full) === running) loading.delete(full)
          return this.#start([full], userKey, loadMany, policies, false, waitUntil, finds).get(full) as Promise<Entry>
        }
        loads.set(full, waitUntil === undefined ? running.promise : joinFlight(running.flight, running.promise, waitUntil, redo))
      }
      if (missing.length > 0) {
        for (const [full, promise] of this.#start(missing, userKey, loadMany, policies, false, waitUntil, finds)) loads.set(full, promise)
      }
      let settled = await Promise.allSettled(open.map((full) => loads.get(full) as Promise<Entry>))
      // A joined load whose loader said ctx.skip() answered its own caller only: those keys load again, together.
      const skipped = open.filter((full, n) => settled[n]?.status === 'fulfilled' && joined.get(full)?.skipped === true)
      if (skipped.length > 0) {
        for (const [full, promise] of this.#start(skipped, userKey, loadMany, policies, false, waitUntil, finds)) {
          loads.set(full, promise)
          joined.delete(full)
        }
        settled = await Promise.allSettled(open.map((full) => loads.get(full) as Promise<Entry>))
      }
      const settledAt = this.#now()
      settled.forEach((outcome, n) => {
        const full = open[n] as string
        if (outcome.status === 'fulfilled') {
          results.set(full, outcome.value)
          return
        }
        const { fallback, fallbackTier } = finds.get(full) as Found
        if (joined.get(full)?.noStale !== true && fallback?.errorUntil !== undefined && settledAt < fallback.errorUntil) {
          this.#inst.served(userKey.get(full) as string, 'error', fallback, fallbackTier)
          results.set(full, fallback)
        } else (failures ??= new Map()).set(full, outcome.reason)
      })
      if (failures !== undefined && errors === undefined) throw failures.values().next().value
    }
    if (errors !== undefined) errors.length = 0
    return fulls.map((full, i) => {
      const entry = results.get(full)
      if (entry !== undefined) return entry.value as V | null
      // Only with `errors`: a key with no answer (a failed load and no stale copy).
      ;(errors as unknown[])[i] = failures?.get(full)
      return undefined
    })
  }

  /**
   * One loadMany call for `fulls`, registered per key so that single-key callers join it. Its entries are written
   * back together (one setMany per tier) for the keys that no delete or newer load has claimed meanwhile.
   */
  #start<V>(
    fulls: string[],
    userKey: Map<string, string>,
    loadMany: BatchLoader<V>,
    policies: Map<string, ResolvedPolicy>,
    background: boolean,
    waitUntil: WaitUntil | undefined,
    /** What the read found per key (a stale fallback or not); undefined for a refresh, where every key had one. */
    finds: Map<string, Found> | undefined,
  ): Map<string, Promise<Entry>> {
    const loading = this.#loads.loading
    const inst = this.#inst
    const tiers = this.#reads.tiers
    const keys = fulls.map((full) => userKey.get(full) as string)
    const own = fulls.map((full) => policies.get(full) as ResolvedPolicy)
    const batch = this.#runner.batch(keys, loadMany, own, background)
    // One owner for the whole batch: its loads share one heartbeat.
    const flight: Flight = { beat: undefined, done: false }
    const loads: Load[] = own.map((p) => {
      const load = newLoad(p.tags)
      load.flight = flight
      return load
    })
    // Attached before the per-key handlers below, so it runs while every key is still registered.
    const written = batch.then((entries) => {
      const items: (readonly [string, string, Entry])[] = []
      fulls.forEach((full, n) => {
        const load = loads[n] as Load
        load.entry = entries[n]
        load.stored = loading.get(full) === load
        if (load.stored) items.push([full, keys[n] as string, entries[n] as Entry])
      })
      if (items.length === 0) return undefined
      if (inst.listening) {
        for (const [, key, entry] of items) inst.emit({ type: 'write', key, entry, source: 'load', at: this.#now() })
      }
      const all = Promise.all(tiers.stores.map((_, i) => tiers.writeMany(i, items)))
      // As a single-key load's write (Loads): reads begun before it lands start no refresh of what it replaces.
      for (const [full, , entry] of items) this.#reads.order.landing(full, all, entry.createdAt)
      return all
    })
    this.#background.track(written, waitUntil)
    const out = new Map<string, Promise<Entry>>()
    fulls.forEach((full, n) => {
      const load = loads[n] as Load
      load.promise = batch.then((entries) => entries[n] as Entry)
      loading.set(full, load)
      const clear = (ok: boolean): void => {
        if (loading.get(full) === load) loading.delete(full)
        this.#loads.settled(full, ok, finds === undefined || finds.get(full)?.fallback !== undefined, load.noStale)
      }
      load.promise.then(
        () => clear(true),
        () => clear(false),
      )
      out.set(full, load.promise)
    })
    // The batch's timeouts are its first key's (LoaderRunner.batch).
    ownFlight(flight, batch, waitUntil, { bound: this.#loads.bound(own[0] as ResolvedPolicy, false), key: keys[0] as string, phase: 'loader' })
    return out
  }
}
