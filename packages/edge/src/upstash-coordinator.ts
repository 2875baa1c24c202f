import { CacheError, type Coordinator, type Duration, type Lock } from '@tiercache/core'
import { INVALIDATE_TAGS, parseStamp, parseTagStamps, redisLayout, RELEASE_LOCK, tagStampKeys, type RedisLayout } from '@tiercache/core/redis'
import { assertRedisClient, type RedisClient } from './redis-client.js'
import { runScript } from './redis-scripts.js'
import { assertOptions, durationOption, optionalFunction, optionalInteger, withTimeout } from './validate.js'

export interface UpstashCoordinatorOptions {
  /** An `@upstash/redis` client, on the same database as the upstashStore it works with. */
  redis: RedisClient
  /**
   * Prefix of its Redis keys (the layout of `@tiercache/core/redis`, shared with `@tiercache/redis`): the stamp at
   * `<prefix>{tags}:stamp`, tags at `<prefix>{tags}:tag:<tag>`, locks at `<prefix>lock:<key>`. No '{' or '}'.
   * @default 'tc:'
   */
  prefix?: string
  /**
   * How long this isolate trusts the tag stamps it last read from Redis. Within it, `tagStamp` answers
   * synchronously with no Redis call; it is also the staleness bound of a global invalidation: an isolate may
   * serve an entry invalidated elsewhere for at most this long (plus Redis replication lag). @default '5s'
   */
  tagCacheTtl?: Duration
  /**
   * How long Redis keeps a tag's stamp. Must be longer than any entry lives, or an invalidated entry could outlive
   * the record of its invalidation. @default '30d'
   */
  tagTtl?: Duration
  /** A Redis call slower than this fails (and core falls back: loads without the lock, serves what tiers hold). @default '1s' */
  timeout?: Duration
  /** Most tags whose stamps one isolate remembers; the least recently read are forgotten first. @default 10000 */
  maxTags?: number
  /** Clock for the local tag cache (how long a read stays trusted), in epoch ms; give it the cache's clock. @default Date.now */
  now?: () => number
}

/** What this isolate knows about one tag. */
interface TagStamp {
  /** Greatest stamp recorded on the tag (0 = never invalidated); Infinity after a failed invalidation, until read again. */
  stamp: number
  /** When that was read from Redis (or written there by this isolate). */
  checkedAt: number
}

/** What an upstashStore linked to this coordinator needs: where tag keys live, and where to put what it read. */
export interface TagLink {
  readonly layout: RedisLayout
  /** How long Redis keeps tag stamps: entries must not outlive it. */
  readonly tagTtl: number
  /** Records tag stamps read from Redis (as the client returned them) at `checkedAt`. */
  remember(tags: readonly string[], stamps: readonly unknown[], checkedAt: number): void
  /** Raises the stamp this isolate knows to one read from Redis (as the client returned it). */
  raise(stamp: unknown): void
  now(): number
}

const links = new WeakMap<Coordinator, TagLink>()

/** The tag link of a coordinator made by upstashCoordinator, or undefined for any other one. */
export function tagLinkOf(coordinator: Coordinator): TagLink | undefined {
  return links.get(coordinator)
}

/**
 * A Coordinator on Upstash Redis, shared by every isolate: stamps, tag stamps and per-key locks, in the layout of
 * `@tiercache/core/redis` (so a Worker and an origin server on `@tiercache/redis` share invalidations and locks).
 *
 * - Stamps: `invalidateTags` runs one script that reads Redis's own clock (TIME), issues the next stamp and raises
 *   the stamp key and every tag to it, atomically. No isolate's clock is ever compared with another's.
 * - `stamp()` is the greatest stamp this isolate has seen in any answer (the first call of an isolate that has seen
 *   none reads it: one GET). `tagStamp` answers from a per-isolate copy read at most `tagCacheTtl` ago,
 *   synchronously and without Redis; otherwise it reads the stamp and every unknown tag with one MGET. An
 *   upstashStore given this coordinator reads tag stamps with the entry, in the same round trip, and refreshes this
 *   copy. Staleness bound: an invalidation made anywhere stops every isolate from serving the entries it kills
 *   within `tagCacheTtl` (plus Redis replication lag). The isolate that invalidates stops at once.
 * - Locks: `SET <prefix>lock:<key> <random token> NX PX <ttl>`, released by a compare-and-delete script, so
 *   only the holder can release it. An isolate that does not get the lock waits for the shared tier to fill.
 *
 * @example
 * const coordinator = upstashCoordinator({ redis })
 * const cache = createCache({ tiers: [cacheApiStore(), upstashStore({ redis, coordinator })], coordinator })
 */
export function upstashCoordinator(options: UpstashCoordinatorOptions): Coordinator {
  assertOptions(options, 'upstashCoordinator(options)')
  assertRedisClient(options.redis, 'options.redis')
  optionalFunction(options.now, 'options.now')
  optionalInteger(options.maxTags, 'options.maxTags', 1)
  const coordinator = new UpstashCoordinator(options)
  links.set(coordinator, coordinator.link)
  return coordinator
}

class UpstashCoordinator implements Coordinator {
  readonly name = 'upstash'
  readonly link: TagLink
  readonly #redis: RedisClient
  readonly #layout: RedisLayout
  readonly #tagCacheTtl: number
  readonly #tagTtl: number
  readonly #timeout: number
  readonly #maxTags: number
  readonly #now: () => number
  /** The greatest stamp any answer from Redis has shown this isolate. */
  #stamp = 0
  /** Whether any answer has carried the stamp yet (before that, stamp() asks). */
  #stampSeen = false
  #stampRead: Promise<number> | undefined
  /** Insertion order = recency of the last read: the first entries are the first forgotten. */
  readonly #tags = new Map<string, TagStamp>()
  /** Invalidations of this isolate not yet answered, per tag: those tags count as invalidated at +Infinity. */
  readonly #pending = new Map<string, number>()
  /** One Redis read per tag at a time. */
  readonly #reading = new Map<string, Promise<number>>()

  constructor(options: UpstashCoordinatorOptions) {
    this.#redis = options.redis
    this.#layout = redisLayout(options.prefix ?? 'tc:', 'options.prefix')
    this.#tagCacheTtl = durationOption(options.tagCacheTtl, 'options.tagCacheTtl', 5_000)
    this.#tagTtl = durationOption(options.tagTtl, 'options.tagTtl', 30 * 86_400_000, true)
    this.#timeout = durationOption(options.timeout, 'options.timeout', 1_000)
    this.#maxTags = options.maxTags ?? 10_000
    this.#now = options.now ?? Date.now
    this.link = {
      layout: this.#layout,
      tagTtl: this.#tagTtl,
      remember: (tags, stamps, checkedAt) => {
        tags.forEach((tag, i) => this.#remember(tag, parseStamp(stamps[i]), checkedAt))
      },
      raise: (stamp) => this.#raise(parseStamp(stamp)),
      now: () => this.#now(),
    }
  }

  stamp(): number | Promise<number> {
    if (this.#stampSeen) return this.#stamp
    this.#stampRead ??= this.#call('stamp', this.#redis.get(this.#layout.stampKey)).then(
      (stamp) => {
        this.#stampRead = undefined
        this.#raise(parseStamp(stamp))
        return this.#stamp
      },
      (error: unknown) => {
        this.#stampRead = undefined
        throw error
      },
    )
    return this.#stampRead
  }

  tagStamp(tags: readonly string[]): number | Promise<number> {
    const now = this.#now()
    let greatest = 0
    let unknown: string[] | undefined
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i] as string
      if (this.#pending.size > 0 && this.#pending.has(tag)) return Number.POSITIVE_INFINITY
      const known = this.#tags.get(tag)
      if (known !== undefined && now - known.checkedAt < this.#tagCacheTtl) {
        if (known.stamp > greatest) greatest = known.stamp
      } else (unknown ??= []).push(tag)
    }
    if (unknown === undefined) return greatest
    return this.#read(unknown).then((stamps) => stamps.reduce((max, stamp) => (stamp > max ? stamp : max), greatest))
  }

  async invalidateTags(tags: readonly string[]): Promise<number> {
    if (tags.length === 0) return this.#stamp
    // This isolate stops serving at once, before Redis has answered.
    for (const tag of tags) this.#pending.set(tag, (this.#pending.get(tag) ?? 0) + 1)
    try {
      const reply = await this.#call('invalidateTags', runScript(this.#redis, INVALIDATE_TAGS, tagStampKeys(this.#layout, tags), [String(Math.ceil(this.#tagTtl))]))
      const stamp = parseStamp(reply)
      if (stamp === 0) throw new CacheError('COORDINATOR_ERROR', `upstash coordinator: invalidateTags got ${JSON.stringify(reply)} instead of a stamp`)
      this.#raise(stamp)
      const now = this.#now()
      for (const tag of tags) this.#remember(tag, stamp, now)
      return stamp
    } catch (error) {
      // Whether Redis recorded it is unknown: the tags stay dead here until they are read again (tagCacheTtl).
      const now = this.#now()
      for (const tag of tags) this.#set(tag, { stamp: Number.POSITIVE_INFINITY, checkedAt: now })
      throw error
    } finally {
      for (const tag of tags) {
        const left = (this.#pending.get(tag) ?? 1) - 1
        if (left === 0) this.#pending.delete(tag)
        else this.#pending.set(tag, left)
      }
    }
  }

  async lock(key: string, ttlMs: number): Promise<Lock | undefined> {
    const lockKey = this.#layout.lockKey(key)
    const token = crypto.randomUUID()
    const taking = this.#redis.set(lockKey, token, { nx: true, px: Math.max(1, Math.ceil(ttlMs)) })
    let taken: unknown
    try {
      taken = await this.#call('lock', taking)
    } catch (error) {
      // Given up on, the SET may still land: release what it took so that nobody waits for a holder that left.
      taking.then((late) => (late === null ? undefined : this.#release(lockKey, token)), noop).catch(noop)
      throw error
    }
    if (taken === null || taken === undefined) return undefined
    return { release: () => this.#release(lockKey, token) }
  }

  async #release(lockKey: string, token: string): Promise<void> {
    await this.#call('release', runScript(this.#redis, RELEASE_LOCK, [lockKey], [token]))
  }

  /** Reads the stamps of `tags` from Redis, joining reads in flight; one MGET (stamp key first) for the rest. */
  #read(tags: string[]): Promise<number[]> {
    const fresh = tags.filter((tag) => !this.#reading.has(tag))
    if (fresh.length > 0) {
      const checkedAt = this.#now()
      const batch = this.#call('tagStamp', this.#redis.mget(...tagStampKeys(this.#layout, fresh))).then((reply) => {
        const { stamp, tags: stamps } = parseTagStamps(reply, fresh.length)
        this.#raise(stamp)
        fresh.forEach((tag, i) => this.#remember(tag, stamps[i] as number, checkedAt))
      })
      for (const tag of fresh) {
        const one = batch.then(() => (this.#pending.has(tag) ? Number.POSITIVE_INFINITY : (this.#tags.get(tag)?.stamp ?? 0)))
        this.#reading.set(tag, one)
        const clear = (): void => {
          if (this.#reading.get(tag) === one) this.#reading.delete(tag)
        }
        one.then(clear, clear)
      }
    }
    return Promise.all(tags.map((tag) => this.#reading.get(tag) as Promise<number>))
  }

  #raise(stamp: number): void {
    if (stamp > this.#stamp) this.#stamp = stamp
    this.#stampSeen = true
  }

  #remember(tag: string, stamp: number, checkedAt: number): void {
    const known = this.#tags.get(tag)
    if (known === undefined) {
      this.#set(tag, { stamp, checkedAt })
      return
    }
    // Stamps only grow: a read that started before this isolate's own invalidation must not lower it. A failed
    // invalidation (Infinity) gives way to the first read made after it.
    const after = checkedAt >= known.checkedAt
    const next = known.stamp === Number.POSITIVE_INFINITY ? (after ? stamp : known.stamp) : Math.max(known.stamp, stamp)
    this.#set(tag, { stamp: next, checkedAt: after ? checkedAt : known.checkedAt })
  }

  #set(tag: string, value: TagStamp): void {
    this.#tags.delete(tag)
    this.#tags.set(tag, value)
    if (this.#tags.size > this.#maxTags) {
      const oldest = this.#tags.keys().next().value
      if (oldest !== undefined) this.#tags.delete(oldest)
    }
  }

  #call<T>(operation: string, promise: Promise<T>): Promise<T> {
    return withTimeout(
      promise,
      this.#timeout,
      () => new CacheError('COORDINATOR_ERROR', `upstash coordinator: ${operation} got no answer from Redis within ${this.#timeout} ms`),
    )
  }
}

function noop(): void {}
