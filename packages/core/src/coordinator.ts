/** A lock held on one key until released or expired. */
export interface Lock {
  release(): Promise<void>
}

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
  /** Takes the lock on `key` for at most `ttlMs`; undefined when another holder has it. */
  lock?(key: string, ttlMs: number): Promise<Lock | undefined>
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
