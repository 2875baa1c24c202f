import { CacheError, type Coordinator, type Duration, type Lock, type LockAttempt } from '@tiercache/core'
import { INVALIDATE_TAGS, parseStamp, parseTagStamps, redisLayout, tagStampKeys, type RedisLayout } from '@tiercache/core/redis'
import { softTags } from '@tiercache/core/store'
import { assertRedisClient, type RedisClient } from './redis-client.js'
import { scriptOf } from './redis-scripts.js'
import { handedOver, RELEASE_AND_HAND, TAKE_LOCK } from './upstash-locks.js'
import { assertOptions, noop, optionalDuration, optionalFunction, optionalInteger, setBounded, TagStamps, withDeadline } from '@tiercache/core/kit'

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
  /**
   * A Redis call slower than this fails (and core falls back: loads without the lock, serves what tiers hold). A lock
   * waiter blocks in calls of up to 80% of it, so the client's own timeout (`signal`) must be at least this long.
   * @default '1s'
   */
  timeout?: Duration
  /** Most tags whose stamps one isolate remembers; the least recently read are forgotten first. @default 10000 */
  maxTags?: number
  /** Clock for the local tag cache (how long a read stays trusted), in epoch ms; give it the cache's clock. @default Date.now */
  now?: () => number
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
  /** READ_AND_LOCK's ARGV[3..6] for a read of `key` that a load follows: the lock key, a new token, PX, wait prefix. */
  lockArgs(key: string, ttlMs: number): string[]
  /**
   * What READ_AND_LOCK's lock part answered for `key`: the holder's token (the one from lockArgs when taken), also
   * when the entry was there (the reader registered as a waiter of the holder: see READ_AND_LOCK).
   */
  lockRead(key: string, args: readonly string[], holder: unknown): void
  /** The lock this isolate holds on `key`, for the write of its entry to release (WRITE_AND_RELEASE's ARGV[3..5]). */
  heldLock(key: string): { lockKey: string; args: string[]; token: string } | undefined
  /** The write of the entry released `token`'s lock and handed the entry to its waiters. */
  handed(key: string, token: string): void
}

/** A lock this isolate holds. */
interface HeldLock {
  token: string
  lockKey: string
  ttl: number
  /** Released (and waiters handed the entry) by the store's write of the entry. */
  handed: boolean
}

/** What a read that a load follows learnt about the key's lock: taken by this isolate, or held by `holder`. */
interface LockSeen {
  token: string
  holder: string
  at: number
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
 *   the stamp key and every tag to it, atomically. No isolate's clock is ever compared with another's. The same
 *   script publishes the tags on the Redis invalidation bus (`<prefix>bus`), so origin servers on
 *   `@tiercache/redis` drop their in-process copies at once.
 * - `stamp()` is the greatest stamp this isolate has seen in any answer (the first call of an isolate that has seen
 *   none reads it: one GET). `tagStamp` answers from a per-isolate copy read at most `tagCacheTtl` ago,
 *   synchronously and without Redis; otherwise it reads the stamp and every unknown tag with one MGET. An
 *   upstashStore given this coordinator reads tag stamps with the entry, in the same round trip, and refreshes this
 *   copy. Staleness bound: an invalidation made anywhere stops every isolate from serving the entries it kills
 *   within `tagCacheTtl` (plus Redis replication lag). The isolate that invalidates stops at once.
 * - Locks: `<prefix>lock:<key>` holds a random token (taken only when absent, with PX), released by a
 *   compare-and-delete script, so only the holder can release it. An isolate that finds the lock held registers
 *   as a waiter of that token and blocks (BLPOP on `<prefix>wait:<token>`, in slices of 80% of `timeout`, up to
 *   core's lockWait) until the holder hands over the entry it wrote (with the stamps of its tags) or releases
 *   without one (a failed or uncacheable load: the waiters load at once). An upstashStore given this coordinator
 *   takes the lock in getOrSet's read and releases it in the write of the entry: 2 requests per full miss, 2 per
 *   waiter. Without `exec` on the client (no BLPOP), waiters poll the shared tier as before.
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
  /**
   * Soft records (`'%soft:' + tag`, core/redis layout) are ordinary tags here: `tagStamp` reads a tag and its soft
   * record in one MGET, and a linked upstashStore's read and write scripts bring both with the entry.
   */
  readonly softRecords = true
  readonly link: TagLink
  readonly #redis: RedisClient
  readonly #layout: RedisLayout
  readonly #tagTtl: number
  readonly #timeout: number
  readonly #maxTags: number
  readonly #now: () => number
  /** The stamps this isolate knows: the greatest of all, and each tag's (core/kit's TagStamps, shared by every coordinator). */
  readonly #stamps: TagStamps
  readonly #readTags = (tags: string[]): Promise<number[]> => this.#read(tags)
  /** Whether any answer has carried the stamp yet (before that, stamp() asks). */
  #stampSeen = false
  #stampRead: Promise<number> | undefined
  /** Per key, what the last read that a load follows found about its lock (claimed by acquire/lock). */
  readonly #seen = new Map<string, LockSeen>()
  /**
   * Per key, the token of a read that may take the lock and has not answered yet: a read given up on (tierTimeout)
   * may still have taken it, and this isolate must not then wait for itself.
   */
  readonly #issued = new Map<string, string>()
  /** Per key, the lock this isolate holds. */
  readonly #held = new Map<string, HeldLock>()
  #sender: string | undefined
  /**
   * Takes the lock on a key, or waits (BLPOP, no polling) at most `waitMs` for its holder to hand over the entry it
   * wrote or to release it. Only with a client that can send BLPOP (`exec`); without it core polls through `lock`.
   */
  readonly acquire?: (key: string, ttlMs: number, waitMs: number) => Promise<LockAttempt>

  constructor(options: UpstashCoordinatorOptions) {
    this.#redis = options.redis
    this.#layout = redisLayout(options.prefix ?? 'tc:', 'options.prefix')
    const tagCacheTtl = optionalDuration(options.tagCacheTtl, 'options.tagCacheTtl') ?? 5_000
    this.#tagTtl = optionalDuration(options.tagTtl, 'options.tagTtl', undefined, { positive: true }) ?? 30 * 86_400_000
    this.#timeout = optionalDuration(options.timeout, 'options.timeout') ?? 1_000
    this.#maxTags = options.maxTags ?? 10_000
    this.#now = options.now ?? Date.now
    this.#stamps = new TagStamps({ trustFor: tagCacheTtl, maxTags: this.#maxTags, now: this.#now })
    this.link = {
      layout: this.#layout,
      tagTtl: this.#tagTtl,
      remember: (tags, stamps, checkedAt) => {
        tags.forEach((tag, i) => this.#stamps.remember(tag, parseStamp(stamps[i]), checkedAt))
      },
      raise: (stamp) => this.#raise(parseStamp(stamp)),
      now: () => this.#now(),
      lockArgs: (key, ttlMs) => {
        const token = crypto.randomUUID()
        this.#remembered(this.#issued, key, token)
        return [this.#layout.lockKey(key), token, String(Math.max(1, Math.ceil(ttlMs))), this.#waitPrefix]
      },
      lockRead: (key, args, holder) => {
        if (this.#issued.get(key) === args[1]) this.#issued.delete(key)
        // A lock this isolate holds is not waited for: its own load of the key is running (joined in core).
        if (typeof holder !== 'string' || this.#held.get(key)?.token === holder) this.#seen.delete(key)
        else this.#remembered(this.#seen, key, { token: args[1] as string, holder, at: this.#now() })
      },
      heldLock: (key) => {
        const held = this.#held.get(key)
        if (held === undefined || held.handed) return undefined
        return { lockKey: held.lockKey, token: held.token, args: [held.token, this.#waitPrefix, String(held.ttl)] }
      },
      handed: (key, token) => {
        const held = this.#held.get(key)
        if (held?.token === token) held.handed = true
      },
    }
    if (typeof this.#redis.exec === 'function') this.acquire = (key, ttlMs, waitMs) => this.#acquire(key, ttlMs, waitMs)
  }

  get #waitPrefix(): string {
    return this.#layout.waitPrefix
  }

  stamp(): number | Promise<number> {
    if (this.#stampSeen) return this.#stamps.loadStamp()
    this.#stampRead ??= this.#call('stamp', this.#redis.get(this.#layout.stampKey)).then(
      (stamp) => {
        this.#stampRead = undefined
        this.#raise(parseStamp(stamp))
        return this.#stamps.current
      },
      (error: unknown) => {
        this.#stampRead = undefined
        throw error
      },
    )
    return this.#stampRead
  }

  tagStamp(tags: readonly string[]): number | Promise<number> {
    return this.#stamps.tagStamp(tags, this.#readTags)
  }

  /** This isolate's sender id on the bus, made on first use (Workers allow no random values at global scope). */
  #busId(): string {
    return (this.#sender ??= `upstash:${crypto.randomUUID()}`)
  }

  async invalidateTags(tags: readonly string[]): Promise<number> {
    if (tags.length === 0) return this.#stamps.current
    // This isolate stops serving at once, before Redis has answered; after a failure, until the tags are read again.
    return this.#stamps.invalidate(tags, async () => {
      // The script also publishes the tags on the Redis invalidation bus (@tiercache/redis's channel and message), so
      // origin servers subscribed there drop their in-process copies at once rather than within their tagCacheTtl.
      const message = JSON.stringify({ o: this.#busId(), a: this.#now(), t: tags })
      const args = [String(Math.ceil(this.#tagTtl)), `${this.#layout.prefix}bus`, message]
      const reply = await this.#call('invalidateTags', scriptOf(this.#redis, INVALIDATE_TAGS).exec(tagStampKeys(this.#layout, tags), args))
      const stamp = parseStamp(reply)
      if (stamp === 0) throw new CacheError('COORDINATOR_ERROR', `upstash coordinator: invalidateTags got ${JSON.stringify(reply)} instead of a stamp`)
      this.#stampSeen = true
      return stamp
    })
  }

  async lock(key: string, ttlMs: number): Promise<Lock | undefined> {
    const lockKey = this.#layout.lockKey(key)
    // The read before it (a store linked to this coordinator) may have taken the lock, or seen it held.
    const seen = this.#claim(key, ttlMs)
    if (seen !== undefined) return seen.holder === seen.token ? this.#hold(key, lockKey, seen.token, ttlMs) : undefined
    const token = crypto.randomUUID()
    const taking = this.#redis.set(lockKey, token, { nx: true, px: Math.max(1, Math.ceil(ttlMs)) })
    let taken: unknown
    try {
      taken = await this.#call('lock', taking)
    } catch (error) {
      // Given up on, the SET may still land: release what it took so that nobody waits for a holder that left.
      taking.then((late) => (late === null ? undefined : this.#release(lockKey, token, ttlMs)), noop).catch(noop)
      throw error
    }
    if (taken === null || taken === undefined) return undefined
    return this.#hold(key, lockKey, token, ttlMs)
  }

  async #acquire(key: string, ttlMs: number, waitMs: number): Promise<LockAttempt> {
    const lockKey = this.#layout.lockKey(key)
    let seen = this.#claim(key, ttlMs)
    if (seen === undefined) {
      const token = crypto.randomUUID()
      const px = String(Math.max(1, Math.ceil(ttlMs)))
      const taking = scriptOf(this.#redis, TAKE_LOCK).exec([lockKey], [token, px, this.#waitPrefix])
      let holder: unknown
      try {
        holder = await this.#call('lock', taking)
      } catch (error) {
        // Given up on, the script may still take the lock: release it so that nobody waits for a holder that left.
        taking.then((late) => (late === token ? this.#release(lockKey, token, ttlMs) : undefined), noop).catch(noop)
        throw error
      }
      if (typeof holder !== 'string') throw new CacheError('COORDINATOR_ERROR', `upstash coordinator: lock got ${JSON.stringify(holder)} instead of a token`)
      // Held by this isolate's own read, still unanswered here: the lock is ours.
      const issued = this.#issued.get(key)
      if (holder === issued) this.#issued.delete(key)
      seen = { token: holder === issued ? issued : token, holder, at: 0 }
    }
    if (seen.holder === seen.token) return { status: 'acquired', lock: this.#hold(key, lockKey, seen.token, ttlMs) }
    return this.#wait(seen.holder, waitMs)
  }

  /**
   * Blocks on the holder's list (BLPOP) until it hands over its entry or releases, at most `waitMs`: one request
   * when the holder answers within a slice (80% of `timeout`, which the client's own timeout must allow), one
   * more per further slice.
   */
  async #wait(holder: string, waitMs: number): Promise<LockAttempt> {
    const exec = this.#redis.exec as NonNullable<RedisClient['exec']>
    const list = this.#waitPrefix + holder
    const most = Math.max(50, Math.floor(this.#timeout * 0.8))
    for (let left = waitMs; left > 0; ) {
      const slice = Math.min(left, most)
      // The stamps handed over were read after this moment.
      const at = this.#now()
      const reply = await withDeadline(exec.call(this.#redis, ['BLPOP', list, (Math.max(slice, 10) / 1000).toFixed(3)]), slice + this.#timeout, () => {
        throw new CacheError('COORDINATOR_ERROR', `upstash coordinator: waiting for a lock got no answer from Redis within ${slice + this.#timeout} ms`)
      })
      const handed = handedOver(reply)
      if (handed !== undefined) {
        const { attempt, stamps } = handed
        if (attempt.status === 'shared' && stamps !== undefined) {
          const own = attempt.entry.tags ?? []
          // The entry's tags, then their soft records (as the holder's write read them).
          const tags = own.length === 0 ? own : [...own, ...softTags(own)]
          if (stamps.length === tags.length + 1) {
            this.#raise(parseStamp(stamps[0]))
            tags.forEach((tag, i) => this.#stamps.remember(tag, parseStamp(stamps[i + 1]), at))
          }
        }
        return attempt
      }
      left -= slice
    }
    return { status: 'timeout' }
  }

  /** What the last read of `key` that a load follows found about its lock, if recent enough to still hold. */
  #claim(key: string, ttlMs: number): LockSeen | undefined {
    const seen = this.#seen.get(key)
    if (seen === undefined) return undefined
    this.#seen.delete(key)
    return this.#now() - seen.at < ttlMs ? seen : undefined
  }

  #hold(key: string, lockKey: string, token: string, ttlMs: number): Lock {
    const ttl = Math.max(1, Math.ceil(ttlMs))
    const held: HeldLock = { token, lockKey, ttl, handed: false }
    this.#remembered(this.#held, key, held)
    return {
      release: async () => {
        if (this.#held.get(key) === held) this.#held.delete(key)
        if (held.handed) return
        await this.#release(lockKey, token, ttl)
      },
    }
  }

  /** Releases the lock if it still holds `token` (compare-and-delete) and tells its waiters to load. */
  async #release(lockKey: string, token: string, ttl: number): Promise<void> {
    const listTtl = String(Math.max(1, Math.ceil(ttl)))
    await this.#call('release', scriptOf(this.#redis, RELEASE_AND_HAND).exec([lockKey], [token, this.#waitPrefix, listTtl]))
  }

  /** Sets `key` in a per-key map bounded like the tag copy (maxTags): the oldest go first. */
  #remembered<T>(map: Map<string, T>, key: string, value: T): void {
    setBounded(map, key, value, this.#maxTags)
  }

  /** Reads the stamps of `tags` from Redis, joining reads in flight; one MGET (stamp key first) for the rest. */
  #read(tags: string[]): Promise<number[]> {
    return this.#stamps.join(tags, (fresh) => {
      const checkedAt = this.#now()
      return this.#call('tagStamp', this.#redis.mget(...tagStampKeys(this.#layout, fresh))).then((reply) => {
        const { stamp, tags: stamps } = parseTagStamps(reply, fresh.length)
        this.#raise(stamp)
        fresh.forEach((tag, i) => this.#stamps.remember(tag, stamps[i] as number, checkedAt))
      })
    })
  }

  #raise(stamp: number): void {
    this.#stamps.raise(stamp)
    this.#stampSeen = true
  }

  /** `promise`, failing with a COORDINATOR_ERROR after `timeout` (0: waits as long as it takes). */
  #call<T>(operation: string, promise: Promise<T>): Promise<T> {
    const ms = this.#timeout
    if (ms === 0) return promise
    return withDeadline(promise, ms, () => {
      throw new CacheError('COORDINATOR_ERROR', `upstash coordinator: ${operation} got no answer from Redis within ${ms} ms`)
    })
  }
}
