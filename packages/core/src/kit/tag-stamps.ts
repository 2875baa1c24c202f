/** What a process knows about one tag. */
interface Known {
  /** Greatest stamp recorded on the tag (0: never invalidated); Infinity after a failed invalidation, until read again. */
  stamp: number
  /** When that was read from the coordinator's storage (or written there by this process); -Infinity: read again. */
  checkedAt: number
}

/** Options of a TagStamps memory. */
export interface TagStampsOptions {
  /** How long (ms) a stamp read from the shared storage is trusted before `tagStamp` reads it again (`tagCacheTtl`). */
  trustFor: number
  /** Most tags remembered; the least recently read are forgotten first. Infinity: no bound. */
  maxTags: number
  /** The clock checkedAt is measured on (epoch ms). */
  now: () => number
  /**
   * The memory holds every tag stamp there is (say, the whole IndexedDB store read at start): a tag it does not hold
   * was never invalidated (0), and nothing is ever read. @default false
   */
  whole?: boolean
}

/**
 * The tag-stamp memory every coordinator keeps in its process (Upstash, Redis, Durable Object, IndexedDB): the
 * greatest stamp it has seen, the stamp of each tag with when it was read, and the tags this process is invalidating
 * right now (dead here until their new stamp is known). One set of rules:
 * - a tag's stamp only grows: a read that started before this process's own invalidation never lowers it;
 * - a failed invalidation (`unsure`) keeps its tags dead (Infinity) until a read made after it answers;
 * - stamps are trusted for `trustFor`, then read again (`tagStamp` calls `read` for those only);
 * - at most `maxTags` tags are remembered, the least recently read forgotten first.
 *
 * @example
 * const memory = new TagStamps({ trustFor: 5_000, maxTags: 10_000, now: Date.now })
 * memory.tagStamp(tags, (unknown, at) => readFromRedis(unknown, at)) // a number when every tag is known
 */
export class TagStamps {
  readonly #tags = new Map<string, Known>()
  /** Invalidations of this process not yet answered, per tag: those tags count as invalidated at +Infinity. */
  readonly #pending = new Map<string, number>()
  /** This process's invalidations under way (`invalidate`): a load starting meanwhile records their stamp (`loadStamp`). */
  readonly #issuing = new Set<Promise<unknown>>()
  /** Reads in flight per tag (`join`): one at a time. */
  readonly #reading = new Map<string, Promise<number>>()
  readonly #trustFor: number
  readonly #maxTags: number
  readonly #now: () => number
  readonly #whole: boolean
  #stamp = 0

  constructor(options: TagStampsOptions) {
    this.#trustFor = options.trustFor
    this.#maxTags = options.maxTags
    this.#now = options.now
    this.#whole = options.whole === true
  }

  /** The greatest stamp any answer has shown this process (0 before any). */
  get current(): number {
    return this.#stamp
  }

  /**
   * The stamp a load starting now records: the current one, or, while this process is invalidating tags, the current
   * one once those invalidations have settled. A load that starts after an `invalidateTags` call reads data from after
   * it: with the stamp from before, its entry would die as soon as the new stamp lands (a wasted load, and in a browser
   * a reload or another tab loading it again).
   */
  loadStamp(): number | Promise<number> {
    if (this.#issuing.size === 0) return this.#stamp
    return Promise.allSettled(this.#issuing).then(() => this.loadStamp())
  }

  /** Raises the greatest stamp seen to `stamp` (ignored unless a finite number). */
  raise(stamp: number): void {
    if (stamp > this.#stamp && Number.isFinite(stamp)) this.#stamp = stamp
  }

  /**
   * The greatest stamp of `tags`: Infinity at once when this process is invalidating one of them; synchronously when
   * every other stamp is trusted; else after `read(unknown, now)` resolved with the stamps of the tags it was given
   * (it should `remember` them).
   */
  tagStamp(tags: readonly string[], read?: (unknown: string[], now: number) => Promise<number[]>): number | Promise<number> {
    const now = this.#now()
    let greatest = 0
    let unknown: string[] | undefined
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i] as string
      if (this.#pending.size > 0 && this.#pending.has(tag)) return Number.POSITIVE_INFINITY
      const known = this.#tags.get(tag)
      if (known !== undefined && (this.#whole || now - known.checkedAt < this.#trustFor)) {
        if (known.stamp > greatest) greatest = known.stamp
      } else if (!this.#whole) (unknown ??= []).push(tag)
    }
    if (unknown === undefined || read === undefined) return greatest
    return read(unknown, now).then((stamps) => stamps.reduce((max, stamp) => (stamp > max ? stamp : max), greatest))
  }

  /** What this process holds for `tag` now: Infinity while it invalidates it, else its stamp (0 when unknown). */
  stampOf(tag: string): number {
    return this.#pending.has(tag) ? Number.POSITIVE_INFINITY : (this.#tags.get(tag)?.stamp ?? 0)
  }

  /** The stamp recorded for `tag` (0 when unknown), whatever this process is invalidating. */
  recorded(tag: string): number {
    return this.#tags.get(tag)?.stamp ?? 0
  }

  /** Records `stamp` for `tag`, as read (or written) at `checkedAt`; never lowers what is known. */
  remember(tag: string, stamp: number, checkedAt: number): void {
    const known = this.#tags.get(tag)
    if (known === undefined) {
      this.#set(tag, { stamp, checkedAt })
      return
    }
    // Stamps only grow: a read that started before this process's own invalidation must not lower it. A failed
    // invalidation (Infinity) gives way to the first read made after it.
    const after = checkedAt >= known.checkedAt
    const next = known.stamp === Number.POSITIVE_INFINITY ? (after ? stamp : known.stamp) : Math.max(known.stamp, stamp)
    this.#set(tag, { stamp: next, checkedAt: after ? checkedAt : known.checkedAt })
  }

  /**
   * An invalidation of `tags` failed at `at`: whether the storage recorded it is unknown, so they stay dead here
   * (Infinity) until read again after `trustFor`.
   */
  unsure(tags: readonly string[], at: number): void {
    for (const tag of tags) this.#set(tag, { stamp: Number.POSITIVE_INFINITY, checkedAt: at })
  }

  /** The next question about these tags (all tags when none are given) reads them again; what is known stays a floor. */
  recheck(tags?: Iterable<string>): void {
    if (tags === undefined) {
      for (const known of this.#tags.values()) known.checkedAt = Number.NEGATIVE_INFINITY
      return
    }
    for (const tag of tags) {
      const known = this.#tags.get(tag)
      if (known !== undefined) known.checkedAt = Number.NEGATIVE_INFINITY
    }
  }

  /** Forgets the tags whose stamp is at most `cutoff` (records older than the tags' lifetime). */
  prune(cutoff: number): void {
    for (const [tag, known] of this.#tags) if (known.stamp <= cutoff) this.#tags.delete(tag)
  }

  /**
   * An invalidation of `tags`: they are dead in this process from the call on; `issue()` records them in the shared
   * storage and resolves with the new stamp, which then becomes theirs here (and raises the current stamp). When it
   * fails, whether the storage recorded it is unknown: `failed` 'dead' keeps the tags dead here until read again
   * after trustFor (`unsure`), 'reread' makes the next question about them read the storage (`recheck`).
   */
  invalidate(tags: readonly string[], issue: () => Promise<number>, failed: 'dead' | 'reread' = 'dead'): Promise<number> {
    return this.#invalidating(tags, async () => {
      let stamp: number
      try {
        stamp = await issue()
      } catch (error) {
        if (failed === 'dead') this.unsure(tags, this.#now())
        else this.recheck(tags)
        throw error
      }
      this.raise(stamp)
      const now = this.#now()
      for (const tag of tags) this.remember(tag, stamp, now)
      return stamp
    })
  }

  /** Runs `work` (an invalidation of `tags`) with the tags dead in this process until it settles. */
  async #invalidating<T>(tags: readonly string[], work: () => Promise<T>): Promise<T> {
    for (const tag of tags) this.#pending.set(tag, (this.#pending.get(tag) ?? 0) + 1)
    let issuing: Promise<T> | undefined
    try {
      issuing = work()
      this.#issuing.add(issuing)
      return await issuing
    } finally {
      if (issuing !== undefined) this.#issuing.delete(issuing)
      for (const tag of tags) {
        const left = (this.#pending.get(tag) ?? 1) - 1
        if (left === 0) this.#pending.delete(tag)
        else this.#pending.set(tag, left)
      }
    }
  }

  /**
   * The stamps of `tags`, joining the reads in flight: one `fetch(fresh)` for the tags nobody is reading (it must
   * `remember` what it read), then what this process holds for each (`stampOf`).
   */
  join(tags: readonly string[], fetch: (fresh: string[]) => Promise<unknown>): Promise<number[]> {
    const fresh = tags.filter((tag) => !this.#reading.has(tag))
    if (fresh.length > 0) {
      const batch = fetch(fresh)
      for (const tag of fresh) {
        const one = batch.then(() => this.stampOf(tag))
        this.#reading.set(tag, one)
        const clear = (): void => {
          if (this.#reading.get(tag) === one) this.#reading.delete(tag)
        }
        one.then(clear, clear)
      }
    }
    // Settles once every read it joined has: with Promise.all, the first failure would end this caller's wait while
    // a read another caller (in Workers, another request) sent is still out, and that read settling later resolves
    // what this caller attached to it after its request may have ended (workerd: "promise resolved from a different
    // request context"). Core bounds the caller's wait by the tier timeout on its own timer.
    return Promise.allSettled(tags.map((tag) => this.#reading.get(tag) as Promise<number>)).then((outcomes) =>
      outcomes.map((outcome) => {
        if (outcome.status === 'rejected') throw outcome.reason
        return outcome.value
      }),
    )
  }

  #set(tag: string, value: Known): void {
    setBounded(this.#tags, tag, value, this.#maxTags)
  }
}

/**
 * Sets `key` in a map used as a bounded memory: the key moves to the end (most recent), and past `max` entries the
 * oldest is dropped.
 *
 * @example
 * setBounded(seen, key, token, 10_000)
 */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key)
  map.set(key, value)
  if (map.size > max) {
    const oldest = map.keys().next()
    if (oldest.done !== true) map.delete(oldest.value)
  }
}
