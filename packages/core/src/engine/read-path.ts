import { entryState, EntryState, type Entry } from '../entry.js'
import type { ResolvedPolicy } from '../policy.js'
import { withDeadline } from '../runtime.js'
import { checkStored } from '../schema.js'
import type { ReadIntent, Store } from '../store.js'
import type { LateRead, Tiers } from '../tiered.js'
import { noop, type Background, type WaitUntil } from './background.js'
import type { Instrumentation } from './instrumentation.js'
import { TagState, type Tags } from './tags.js'
import type { WriteOrder } from './write-order.js'
import { softState } from './soft.js'

/**
 * What reading the tiers for one key found: the entry to serve, if any, the newest error-stale fallback, and the first
 * tier read that ran past its timeout (LateRead: see ReadPath.lateEntry).
 */
export interface Found extends LateRead {
  /** A servable entry: fresh, or stale within swr. */
  entry: Entry | undefined
  /** The tier holding `entry`, -1 without one. */
  tier: number
  state: EntryState
  /** The newest entry usable only if a load fails. */
  fallback: Entry | undefined
  /** The tier holding `fallback`. */
  fallbackTier: number
  /** The policy of the read, when its schema must be checked (values from tiers outside this process). */
  p?: ResolvedPolicy | undefined
  /** When the read began (WriteOrder.token): see ReadPath.overtaken. */
  token: number
}

export function notFound(token = 0): Found {
  return { entry: undefined, tier: -1, state: EntryState.Dead, fallback: undefined, fallbackTier: -1, token }
}

/** Reads down the tiers, judges what it finds, and copies what it served into the tiers above. */
export class ReadPath {
  readonly tiers: Tiers
  readonly #inst: Instrumentation
  readonly #tags: Tags
  readonly #background: Background
  readonly #now: () => number
  /** The order of this process's reads and writes per key; loads record their writes here. */
  readonly order: WriteOrder

  constructor(tiers: Tiers, inst: Instrumentation, tags: Tags, background: Background, now: () => number, order: WriteOrder) {
    this.tiers = tiers
    this.order = order
    this.#inst = inst
    this.#tags = tags
    this.#background = background
    this.#now = now
  }

  /**
   * Reads tiers from `from` down until one has a servable entry; fills the tiers above it with a fresh one.
   * Dead entries (expired, or killed by a tag) are skipped, not deleted (see take). `intent` goes with each store read.
   */
  async find(
    key: string,
    full: string,
    from: number,
    waitUntil: WaitUntil | undefined,
    count: boolean,
    p?: ResolvedPolicy,
    intent?: ReadIntent,
  ): Promise<Found> {
    const tiers = this.tiers
    const token = this.order.token()
    const found = notFound(token)
    if (p?.schema !== undefined) found.p = p
    for (let i = from; i < tiers.length; i++) {
      const store = tiers.stores[i]
      const entry = store?.getSync !== undefined ? tiers.readNow(i, full, key) : await tiers.read(i, full, key, intent, found)
      if (!(await this.take(found, i, key, entry, count))) continue
      this.#copyUp(found, key, full, waitUntil)
      return found
    }
    return found
  }

  /**
   * Waits until the clock's `deadline` at most for the read that ran past its tier's timeout (found.lateRead), and
   * judges what it brought as find does (take). True when it is fresh: `found` then holds it, copied up as find does.
   * A stale one becomes found.fallback (for stale-if-error to judge). Nothing in time, a failed read or a dead entry:
   * false.
   */
  async lateEntry(found: Found, key: string, full: string, deadline: number, waitUntil: WaitUntil | undefined): Promise<boolean> {
    const i = found.lateTier as number
    const stored = await withDeadline((found.lateRead as Promise<unknown>).catch(noop), deadline - this.#now(), noop)
    // adopt: checked and decoded as a read of tier i would be.
    if (!(await this.take(found, i, key, await this.tiers.adopt(i, full, key, stored as Entry), false))) return false
    if (found.state === EntryState.Fresh) {
      this.#copyUp(found, key, full, waitUntil)
      return true
    }
    found.fallback = found.entry
    found.fallbackTier = i
    return false
  }

  /** What a read does with the servable entry `found` holds. */
  #copyUp(found: Found, key: string, full: string, waitUntil: WaitUntil | undefined): void {
    const { tier, token } = found
    const entry = found.entry as Entry
    const fresh = found.state === EntryState.Fresh
    // Only a fresh entry is copied up: a stale one is about to be replaced by its refresh, and a copy landing
    // after the refresh's own write would bring it back.
    // Nor one the key was written over (set, write, delete) while this read was under way.
    if (tier > 0 && fresh && !this.order.overtaken(full, token)) this.fill(key, full, entry, tier, waitUntil)
    if (this.tiers.rewrite !== undefined && fresh) this.reencrypt(key, full, entry, tier, token, waitUntil)
  }

  /**
   * The one rule for what tier `i` held for a key, shared by single-key and batch reads: judges the entry by its
   * times and its tags (a hard invalidation kills it, a soft one makes a fresh entry stale: see softState), keeps
   * the newest error-stale entry as the fallback, and (when `count`) counts and reports the hit, stale answer or miss.
   * True when the entry can be served; `found` then holds it.
   */
  async take(found: Found, i: number, key: string, entry: Entry | undefined, count: boolean): Promise<boolean> {
    const now = this.#now()
    let state = entry === undefined ? EntryState.Dead : entryState(entry, now)
    if (entry !== undefined && state !== EntryState.Dead && entry.tags !== undefined) {
      // A fresh entry asks for the hard and soft records in one question; a stale one only needs the hard ones.
      if (state === EntryState.Fresh) {
        const tagged = await this.#tags.stateAsync(entry.tags, entry, key)
        if (tagged === TagState.Dead) state = EntryState.Dead
        else if (tagged === TagState.Soft) state = softState(entry, now)
      } else if (!(await this.#tags.aliveAsync(entry.tags, entry, key))) state = EntryState.Dead
    }
    // Values from outside this process may have been written by another version of the app.
    if (entry !== undefined && state !== EntryState.Dead && found.p !== undefined && entry.negative !== true && this.tiers.stores[i]?.getSync === undefined) {
      entry = await this.#checked(found.p, i, key, entry)
      if (entry === undefined) state = EntryState.Dead
    }
    const inst = this.#inst
    const counters = inst.counters
    const tier = inst.listening ? this.#name(i) : ''
    if (entry === undefined || state === EntryState.Dead || state === EntryState.ErrorStale) {
      // A dead entry (expired, or killed by a tag) stays where it is: every read judges it dead again, its store drops
      // it when it expires (never after its tags' records), and a load overwrites it. Deleting it here could land
      // after another process (or a load here) wrote the key anew, and remove that entry.
      if (entry !== undefined && state === EntryState.ErrorStale && (found.fallback === undefined || entry.createdAt > found.fallback.createdAt)) {
        found.fallback = entry
        found.fallbackTier = i
      }
      if (count) {
        counters.bump(counters.misses, i)
        if (inst.listening) inst.emit({ type: 'miss', key, tier, tierIndex: i, at: now })
      }
      return false
    }
    found.entry = entry
    found.tier = i
    found.state = state
    if (count) {
      if (state === EntryState.Fresh) {
        counters.bump(counters.hits, i)
        counters.totalHits++
        if (inst.listening) inst.emit({ type: 'hit', key, tier, tierIndex: i, entry, at: now })
      } else {
        counters.bump(counters.staleHits, i)
        counters.totalStale++
        if (inst.listening) inst.emit({ type: 'stale', key, tier, tierIndex: i, reason: 'swr', entry, at: now })
      }
    }
    return true
  }

  /**
   * The entry when its value passes the policy's schema (migrated if need be); else undefined. Tier `i` is left as it
   * is either way, like a dead entry (see take): a write or delete could land after another process wrote the key
   * anew. A migrated entry is copied into the tiers above as any hit; the next load replaces it everywhere.
   */
  async #checked(p: ResolvedPolicy, i: number, key: string, entry: Entry): Promise<Entry | undefined> {
    const verdict = await checkStored(p.schema as NonNullable<ResolvedPolicy['schema']>, p.migrate, entry.value)
    if (verdict.issues === undefined && !verdict.migrated) return entry
    const inst = this.#inst
    const migrated = verdict.issues === undefined
    inst.emit({ type: 'invalid', key, tier: this.#name(i), tierIndex: i, migrated, issues: verdict.issues, at: this.#now() })
    return migrated ? { ...entry, value: verdict.value } : undefined
  }

  /**
   * Writes an entry read from tier `i` (by a single-key or batch read, or handed over by a lock holder as that tier
   * keeps it) under an old encryption key again under the current one, in the background (see Tiers.rewrite); not
   * when the key was written since `token` (WriteOrder).
   */
  reencrypt(key: string, full: string, entry: Entry, i: number, token: number, waitUntil: WaitUntil | undefined): void {
    const rewrite = this.tiers.rewrite?.(i, full, key, entry, () => this.order.overtaken(full, token))
    if (rewrite === undefined) return
    const inst = this.#inst
    const done = rewrite.then((ok) => {
      if (ok && inst.listening) inst.emit({ type: 'reencrypt', key, tier: this.#name(i), tierIndex: i, at: this.#now() })
    })
    this.#background.track(done, waitUntil)
  }

  /**
   * Whether the entry `found` holds is older than what this process wrote for the key (set, delete, a load storing
   * its answer) since the read began, or is writing now. A stale entry then needs no refresh: the write brought a
   * newer one. (A read that began before a refresh wrote and judged the old entry after the refresh ended once
   * started a second refresh: issue 13's soft burst.)
   */
  superseded(full: string, found: Found): boolean {
    return found.entry !== undefined && this.supersededAt(full, found.token, found.entry.createdAt)
  }

  /**
   * `superseded` for an entry created at `createdAt`, found by the read holding `token`. A load whose writes were all
   * synchronous records nothing (a per-load record doubled the cold miss's cost): the first tier, which such a load
   * wrote before anyone could read it, holds its entry, so an entry there created later than the found one tells.
   */
  supersededAt(full: string, token: number, createdAt: number): boolean {
    if (this.order.superseded(full, token, createdAt)) return true
    const first = this.tiers.stores[0] as Store
    if (first.getSync === undefined) return false
    try {
      const now = first.getSync(full)
      return now !== undefined && now.createdAt > createdAt
    } catch {
      return false
    }
  }

  #name(i: number): string {
    return (this.tiers.stores[i] as Store).name
  }

  /** Copies an entry found in tier `below` into every tier above it. */
  fill(key: string, full: string, entry: Entry, below: number, waitUntil: WaitUntil | undefined): void {
    const inst = this.#inst
    const filled = (i: number, ok: boolean): void => {
      if (!ok) return
      inst.counters.bump(inst.counters.fills, i)
      if (inst.listening) inst.emit({ type: 'fill', key, tier: this.#name(i), tierIndex: i, at: this.#now() })
    }
    for (let i = 0; i < below; i++) {
      const store = this.tiers.stores[i]
      if (store?.setSync !== undefined) filled(i, this.tiers.writeNow(i, full, key, entry))
      else this.#background.track(this.tiers.write(i, full, key, entry).then((ok) => filled(i, ok)), waitUntil)
    }
  }

  /** Copies entries found in tier `below` into every tier above it, one write per tier. */
  fillMany(items: (readonly [string, string, Entry])[], below: number, waitUntil: WaitUntil | undefined): void {
    const inst = this.#inst
    for (let i = 0; i < below; i++) {
      this.#background.track(
        this.tiers.writeMany(i, items).then((ok) => {
          if (!ok) return
          inst.counters.bump(inst.counters.fills, i, items.length)
          if (inst.listening) {
            const tier = this.#name(i)
            for (const [, key] of items) inst.emit({ type: 'fill', key, tier, tierIndex: i, at: this.#now() })
          }
        }),
        waitUntil,
      )
    }
  }
}
