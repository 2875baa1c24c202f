import { CacheError, type Coordinator, type Duration, type Lock } from '@tiercache/core'
import { assertRedisClient, type RedisClient } from './redis-client.js'
import { runScript, RELEASE_LOCK, SET_IF_GREATER } from './redis-scripts.js'
import { assertOptions, durationOption, optionalFunction, optionalInteger, optionalString, withTimeout } from './validate.js'

export interface UpstashCoordinatorOptions {
  /** An `@upstash/redis` client, on the same database as the upstashStore it works with. */
  redis: RedisClient
  /** Prefix of its Redis keys: tags live at `<prefix>tag:<tag>`, locks at `<prefix>lock:<key>`. @default 'tc:' */
  prefix?: string
  /**
   * How long this isolate trusts the invalidation times it last read from Redis. Within it, `invalidatedAt`
   * answers synchronously with no Redis call; it is also the staleness bound of a global invalidation: an
   * isolate may serve an entry invalidated elsewhere for at most this long. @default '5s'
   */
  tagCacheTtl?: Duration
  /**
   * How long Redis keeps a tag's invalidation time. Must be longer than any entry lives, or an invalidated entry
   * could outlive the record of its invalidation. @default '30d'
   */
  tagTtl?: Duration
  /** A Redis call slower than this fails (and core falls back: loads without the lock, serves what tiers hold). @default '1s' */
  timeout?: Duration
  /** Most tags whose times one isolate remembers; the least recently read are forgotten first. @default 10000 */
  maxTags?: number
  /** Clock for the local tag cache, in epoch ms; give it the cache's clock. @default Date.now */
  now?: () => number
}

/** What this isolate knows about one tag. */
interface TagTime {
  /** Latest invalidation time (0 = never). */
  at: number
  /** When that was read from Redis (or written there by this isolate). */
  checkedAt: number
}

/** What an upstashStore linked to this coordinator needs: where tag keys live, and where to put what it read. */
export interface TagLink {
  readonly tagPrefix: string
  /** How long Redis keeps tag times: entries must not outlive it. */
  readonly tagTtl: number
  remember(tags: readonly string[], times: readonly unknown[], checkedAt: number): void
  now(): number
}

const links = new WeakMap<Coordinator, TagLink>()

/** The tag link of a coordinator made by upstashCoordinator, or undefined for any other one. */
export function tagLinkOf(coordinator: Coordinator): TagLink | undefined {
  return links.get(coordinator)
}

/**
 * A Coordinator on Upstash Redis, shared by every isolate: tag invalidation times and per-key locks.
 *
 * - Tags: `invalidateTags` records the time in Redis (only ever raising it, with a Lua script). `invalidatedAt`
 *   answers from a per-isolate copy read at most `tagCacheTtl` ago, synchronously and without Redis; otherwise it
 *   reads every unknown tag with one MGET. An upstashStore given this coordinator reads tag times with the entry,
 *   in the same round trip, and refreshes this copy. Staleness bound: an invalidation made anywhere stops every
 *   isolate from serving the entries it kills within `tagCacheTtl` (plus clock skew and Redis replication lag).
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
  optionalString(options.prefix, 'options.prefix', 128)
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
  readonly #tagPrefix: string
  readonly #lockPrefix: string
  readonly #tagCacheTtl: number
  readonly #tagTtl: number
  readonly #timeout: number
  readonly #maxTags: number
  readonly #now: () => number
  /** Insertion order = recency of the last read: the first entries are the first forgotten. */
  readonly #tags = new Map<string, TagTime>()
  /** One Redis read per tag at a time. */
  readonly #reading = new Map<string, Promise<number>>()

  constructor(options: UpstashCoordinatorOptions) {
    const prefix = options.prefix ?? 'tc:'
    this.#redis = options.redis
    this.#tagPrefix = `${prefix}tag:`
    this.#lockPrefix = `${prefix}lock:`
    this.#tagCacheTtl = durationOption(options.tagCacheTtl, 'options.tagCacheTtl', 5_000)
    this.#tagTtl = durationOption(options.tagTtl, 'options.tagTtl', 30 * 86_400_000, true)
    this.#timeout = durationOption(options.timeout, 'options.timeout', 1_000)
    this.#maxTags = options.maxTags ?? 10_000
    this.#now = options.now ?? Date.now
    this.link = {
      tagPrefix: this.#tagPrefix,
      tagTtl: this.#tagTtl,
      remember: (tags, times, checkedAt) => {
        tags.forEach((tag, i) => this.#remember(tag, toTime(times[i]), checkedAt))
      },
      now: () => this.#now(),
    }
  }

  invalidatedAt(tags: readonly string[]): number | Promise<number> {
    const now = this.#now()
    let latest = 0
    let unknown: string[] | undefined
    for (let i = 0; i < tags.length; i++) {
      const tag = tags[i] as string
      const known = this.#tags.get(tag)
      if (known !== undefined && now - known.checkedAt < this.#tagCacheTtl) {
        if (known.at > latest) latest = known.at
      } else (unknown ??= []).push(tag)
    }
    if (unknown === undefined) return latest
    return this.#read(unknown).then((times) => times.reduce((max, at) => (at > max ? at : max), latest))
  }

  async invalidateTags(tags: readonly string[], at: number): Promise<void> {
    if (tags.length === 0) return
    // This isolate stops serving at once, before Redis has answered.
    const now = this.#now()
    for (const tag of tags) this.#remember(tag, at, now)
    const keys = tags.map((tag) => this.#tagPrefix + tag)
    const times = await this.#call('invalidateTags', runScript(this.#redis, SET_IF_GREATER, keys, [String(at), String(this.#tagTtl)]))
    if (Array.isArray(times)) this.link.remember(tags, times, now)
  }

  async lock(key: string, ttlMs: number): Promise<Lock | undefined> {
    const lockKey = this.#lockPrefix + key
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

  /** Reads the times of `tags` from Redis, joining reads in flight; one MGET for the rest. */
  #read(tags: string[]): Promise<number[]> {
    const fresh = tags.filter((tag) => !this.#reading.has(tag))
    if (fresh.length > 0) {
      const checkedAt = this.#now()
      const batch = this.#call('invalidatedAt', this.#redis.mget(...fresh.map((tag) => this.#tagPrefix + tag))).then((times) => {
        fresh.forEach((tag, i) => this.#remember(tag, toTime(times[i]), checkedAt))
        return times
      })
      for (const tag of fresh) {
        const one = batch.then(() => this.#tags.get(tag)?.at ?? 0)
        this.#reading.set(tag, one)
        const clear = (): void => {
          if (this.#reading.get(tag) === one) this.#reading.delete(tag)
        }
        one.then(clear, clear)
      }
    }
    return Promise.all(tags.map((tag) => this.#reading.get(tag) as Promise<number>))
  }

  #remember(tag: string, at: number, checkedAt: number): void {
    const known = this.#tags.get(tag)
    // Times only grow; a read that started before this isolate's own invalidation must not lower it.
    const latest = known !== undefined && known.at > at ? known.at : at
    const checked = known !== undefined && known.checkedAt > checkedAt ? known.checkedAt : checkedAt
    this.#tags.delete(tag)
    this.#tags.set(tag, { at: latest, checkedAt: checked })
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

/** An invalidation time as Redis returns it (the client may have parsed "123" into 123), 0 for none. */
function toTime(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : 0
  return Number.isFinite(n) && n > 0 ? n : 0
}

function noop(): void {}
