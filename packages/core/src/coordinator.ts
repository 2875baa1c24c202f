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
 * What several processes or isolates sharing tiers must agree on: when each tag was last invalidated,
 * and short per-key locks so that one of them loads a missing key while the others wait for the shared tier.
 * Core ships an in-process one; `@tiercache/edge` ships one on Redis.
 */
export interface Coordinator {
  readonly name: string
  /**
   * The latest invalidation time (epoch ms) of any of these namespaced tags, 0 when none was ever invalidated.
   * Answer synchronously when possible: a fresh hit then needs no allocation or await.
   */
  invalidatedAt(tags: readonly string[]): number | Promise<number>
  /** Records that every entry carrying one of these tags and created at or before `at` is dead. */
  invalidateTags(tags: readonly string[], at: number): Promise<void>
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

export interface MemoryCoordinatorOptions {
  /** Clock for lock expiry. @default Date.now */
  now?: () => number
}

/**
 * An in-process Coordinator: tag invalidation times and locks in memory. Several caches in one process
 * (say, one per simulated isolate in a test) can share it.
 *
 * @example
 * const coordinator = memoryCoordinator()
 * const a = createCache({ tiers: [memoryStore(), shared], coordinator })
 */
export function memoryCoordinator(options: MemoryCoordinatorOptions = {}): Coordinator {
  const now = options.now ?? Date.now
  const tagTimes = new Map<string, number>()
  const locks = new Map<string, { until: number; owner: object }>()
  return {
    name: 'memory',
    softRecords: true,
    invalidatedAt(tags) {
      if (tagTimes.size === 0) return 0
      let latest = 0
      for (let i = 0; i < tags.length; i++) {
        const at = tagTimes.get(tags[i] as string)
        if (at !== undefined && at > latest) latest = at
      }
      return latest
    },
    async invalidateTags(tags, at) {
      for (const tag of tags) {
        const previous = tagTimes.get(tag)
        if (previous === undefined || at > previous) tagTimes.set(tag, at)
      }
    },
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
