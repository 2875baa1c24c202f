import type { Entry } from './entry.js'

/** A lock held on one key until released or expired. */
export interface Lock {
  release(): Promise<void>
  /**
   * Optional (coordinators with `acquire`): hands the holder's fresh entry to the processes waiting for this lock
   * before it is released, so that they answer with it instead of reading a shared tier. Core calls it as soon as
   * the load produced a fresh entry, then `release()` once the tiers hold it. A holder with nothing to share (its
   * load failed, or its answer is not cacheable) calls only `release()`, at once: its waiters stop waiting.
   */
  share?(entry: Entry): Promise<void>
}

/**
 * What asking for a lock with `Coordinator.acquire` ended with: the lock; the holder's shared entry (as `Lock.share`
 * got it, or as the last shared tier stores it: core decodes it like a read of that tier); the holder's release
 * without one (it failed, its answer was not cacheable, or its lock expired); or nothing heard in time.
 */
export type LockAttempt =
  | { readonly status: 'acquired'; readonly lock: Lock }
  | { readonly status: 'shared'; readonly entry: Entry }
  | { readonly status: 'released' }
  | { readonly status: 'timeout' }

/**
 * What several processes or isolates sharing tiers must agree on: which entries a tag invalidation killed, and
 * short per-key locks so that one of them loads a missing key while the others wait for the shared tier.
 * Core ships an in-process one (`memoryCoordinator`); `@tiercache/edge` ships one on Upstash Redis,
 * `@tiercache/browser` one in IndexedDB.
 *
 * Invalidation is decided by **stamps**, never by comparing the clocks of different machines. A stamp is an
 * integer issued by the coordinator itself that only grows (`nextStamp`: the last one + 1, or the coordinator's
 * clock in ms when that is greater, so stamps read as rough epoch ms).
 * - A load records, before the loader runs, `stamp()`: the greatest stamp this process knows. The entry carries it.
 * - `invalidateTags` issues a new stamp and records it on each tag.
 * - An entry is dead once any of its tags has a stamp greater than the entry's. Equal means the invalidation came
 *   first: alive. A smaller (older) recorded stamp can only kill an entry early, never keep it alive too long.
 *
 * @example
 * // A third-party coordinator over some shared store (sketch)
 * const coordinator: Coordinator = {
 *   name: 'my-kv',
 *   stamp: () => known, // the greatest stamp any answer of the shared store has shown this process
 *   tagStamp: (tags) => readTagStamps(tags), // also raises `known` to the current stamp it reads
 *   invalidateTags: (tags) => raiseStampAndTagsAtomically(tags), // resolves with the new stamp
 * }
 */
export interface Coordinator {
  readonly name: string
  /**
   * The greatest stamp this process knows (0 before any invalidation). A load records it when it starts. Every
   * answer that carries tag stamps should also carry the current stamp, raising what this returns, so that an entry
   * this process loads is never killed by an invalidation it already knew of. Answer synchronously when possible;
   * a Promise (say, the first call of a process, which must ask) delays the load until it settles. While this
   * process's own `invalidateTags` is under way, answer its stamp once it settled (TagStamps' `loadStamp`): a load
   * starting after the call would otherwise die as soon as that stamp lands.
   */
  stamp(): number | Promise<number>
  /**
   * The greatest stamp recorded on any of these namespaced tags: 0 when none was ever invalidated, Infinity for a
   * tag this process is invalidating right now (until its new stamp is known). Answer synchronously when possible:
   * a fresh hit then needs no allocation or await.
   */
  tagStamp(tags: readonly string[]): number | Promise<number>
  /**
   * Issues a new stamp (greater than every stamp issued before, whoever issued it), records it on each namespaced
   * tag (only ever raising a tag's stamp) and resolves with it. From the call on, this process treats the tags as
   * invalidated (its own reads see its own write).
   */
  invalidateTags(tags: readonly string[]): Promise<number>
  /**
   * True when this coordinator answers for a tag's soft record together with the tag's own, at no extra request:
   * the soft record of `tag` is the ordinary record of the tag `'%soft:' + tag` (a name no namespaced tag can
   * have), written by `invalidateTags(tags, { mode: 'soft' })`. Core then asks one question for both. Without it,
   * a soft invalidation is refused with a TypeError naming the coordinator: asking for the soft records apart would
   * cost a request on reads that today need none.
   */
  readonly softRecords?: boolean
  /** Takes the lock on `key` for at most `ttlMs`; undefined when another holder has it. */
  lock?(key: string, ttlMs: number): Promise<Lock | undefined>
  /**
   * Optional, for coordinators that can tell a waiter about the holder (a Durable Object): takes the lock on `key`
   * for at most `ttlMs`, or, when another process holds it, waits at most `waitMs` for that holder to share its
   * entry or release. Core then answers with the shared entry, or loads at once on a release, instead of polling
   * the shared tiers. Coordinators without it only implement `lock`, and their waiters poll. The wait must be
   * bounded by the caller's own timers (in workerd, a request must not wait on another request's work).
   */
  acquire?(key: string, ttlMs: number, waitMs: number): Promise<LockAttempt>
}

/**
 * The coordinator shape of tiercache 0.1, which compared clocks: an entry was dead when a tag's invalidation time
 * (the invalidating process's clock) was at or after the entry's createdAt (the loading process's clock). Still
 * accepted by createCache, with that rule, so that an existing coordinator keeps working; its answers are only as
 * right as the clocks agree. Implement `Coordinator` (stamps) instead.
 * @deprecated
 */
export interface ClockCoordinator {
  readonly name: string
  /** The latest invalidation time (epoch ms) of any of these namespaced tags, 0 when none was ever invalidated. */
  invalidatedAt(tags: readonly string[]): number | Promise<number>
  /** Records that every entry carrying one of these tags and created at or before `at` is dead. */
  invalidateTags(tags: readonly string[], at: number): Promise<void>
  /** As Coordinator.softRecords (a soft record is the ordinary record of `'%soft:' + tag`). */
  readonly softRecords?: boolean
  lock?(key: string, ttlMs: number): Promise<Lock | undefined>
}

/**
 * The next stamp after `last`: `last + 1`, or the clock (whole ms) when that is greater. Stamps stay strictly
 * increasing whatever the clock does, and read as rough epoch ms.
 *
 * @example
 * nextStamp(0, 1_700_000_000_123.7) // 1700000000123
 * nextStamp(1_700_000_000_200, 1_700_000_000_123) // 1700000000201
 */
export function nextStamp(last: number, clockMs: number): number {
  const now = Math.floor(clockMs)
  return now > last ? now : last + 1
}

export interface MemoryCoordinatorOptions {
  /** Clock for stamps and lock expiry. @default Date.now */
  now?: () => number
}

/**
 * Stamps and tag stamps in memory, without locks: the coordinator of a cache given none. No other cache shares it,
 * so a lock would have no one to lock against: it could only make the cache wait, for lockWait, on a load of its own
 * that it chose not to join (one a delete, set, expire or invalidation left behind, whose answer it does not store).
 */
export function localCoordinator(now: () => number): Coordinator {
  let last = 0
  const tagStamps = new Map<string, number>()
  return {
    name: 'memory',
    softRecords: true,
    stamp: () => last,
    tagStamp(tags) {
      if (tagStamps.size === 0) return 0
      let greatest = 0
      for (let i = 0; i < tags.length; i++) {
        const stamp = tagStamps.get(tags[i] as string)
        if (stamp !== undefined && stamp > greatest) greatest = stamp
      }
      return greatest
    },
    async invalidateTags(tags) {
      // Synchronous up to here: the caller's next read already sees it.
      const stamp = (last = nextStamp(last, now()))
      for (const tag of tags) tagStamps.set(tag, stamp)
      return stamp
    },
  }
}

/**
 * An in-process Coordinator: stamps, tag stamps and locks in memory. Several caches in one process (say, one per
 * simulated isolate in a test) can share it; it answers synchronously.
 *
 * @example
 * const coordinator = memoryCoordinator()
 * const a = createCache({ tiers: [memoryStore(), shared], coordinator })
 */
export function memoryCoordinator(options: MemoryCoordinatorOptions = {}): Coordinator {
  const now = options.now ?? Date.now
  const locks = new Map<string, { until: number; owner: object }>()
  return {
    ...localCoordinator(now),
    async lock(key, ttlMs) {
      const held = locks.get(key)
      const time = now()
      if (held !== undefined && held.until > time) return undefined
      const owner = {}
      locks.set(key, { until: time + ttlMs, owner })
      return {
        async release() {
          if (locks.get(key)?.owner === owner) locks.delete(key)
        },
      }
    },
  }
}
