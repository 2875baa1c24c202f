import { CacheError, type Duration, type Lock, type LockAttempt } from '@tiercache/core'
import { decodeEntry, encodeEntry, SOFT_TAG } from '@tiercache/core/store'
import { LOCK_HEADER, TOKEN_HEADER } from './durable-object.js'
import { linkReads, type ReadLink } from './durable-object-link.js'
import { assertOptions, noop, optionalDuration, optionalFunction, optionalInteger, optionalString, TagStamps, typeOf, withDeadline } from '@tiercache/core/kit'

/** A Durable Object stub: what `namespace.get(id)` returns. */
export interface DurableObjectStubLike {
  fetch(input: string, init?: { method?: string; body?: string; headers?: Record<string, string> }): Promise<Response>
}

/** The part of a Durable Object namespace binding (`env.TIERCACHE`) the coordinator uses. */
export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown
  get(id: never): DurableObjectStubLike
}

export interface DurableObjectCoordinatorOptions {
  /** The binding of the TiercacheCoordinator class, `env.TIERCACHE`. */
  namespace: DurableObjectNamespaceLike
  /**
   * Prefix of the objects' names: coordinators with different prefixes share nothing. No more than 64 characters.
   * @default 'tc:'
   */
  prefix?: string
  /**
   * Objects that tags and locks are spread over by name, so that one hot tag or key does not serialise the rest.
   * Choose it once: changing it moves tags to other objects, which forgets their invalidations (bump the cache's
   * namespace when you do). @default 8
   */
  shards?: number
  /**
   * How long this isolate trusts the tag stamps it read. Within it, tag checks answer synchronously with no request
   * to an object; it is also the staleness bound of an invalidation made elsewhere. @default '5s'
   */
  tagCacheTtl?: Duration
  /** How long the objects keep a tag's stamp; entries must not live longer. @default '30d' */
  tagTtl?: Duration
  /** A request to an object slower than this fails (core then loads without the lock, or serves what tiers hold). @default '1s' */
  timeout?: Duration
  /** Most tag stamps one isolate remembers; the least recently read are forgotten first. @default 10000 */
  maxTags?: number
  /** Clock for the local tag cache, in epoch ms; give it the cache's clock. @default Date.now */
  now?: () => number
}

/**
 * A durableObjectCoordinator: a Coordinator by stamps (`stamp`, `tagStamp`, `invalidateTags(tags)` resolving with
 * the new stamp), which also answers the 0.1 clock shape (`invalidatedAt`), and hands lock waiters the holder's
 * outcome (`acquire`).
 */
export interface DurableObjectCoordinator {
  readonly name: string
  /**
   * True: the soft record of a tag (the tag `'%soft:' + tag`, written by `invalidateTags(tags, { mode: 'soft' })`)
   * lives in the tag's own shard object, so a read of both costs one request per shard, as a read of the tag alone.
   */
  readonly softRecords: true
  /**
   * The greatest stamp this isolate knows. The first call of an isolate asks the clock object (a Promise, one
   * request of this caller's own); after that it answers at once, raised by every answer carrying stamps.
   */
  stamp(): number | Promise<number>
  /** The greatest stamp recorded on any of these tags (0: never invalidated; Infinity while this isolate invalidates one). */
  tagStamp(tags: readonly string[]): number | Promise<number>
  /** The same answer, under the 0.1 name. */
  invalidatedAt(tags: readonly string[]): number | Promise<number>
  /**
   * Issues a new stamp from the clock object, records it on each tag's shard, and resolves with it (a number;
   * typed `any` while core accepts both the 0.1 shape, resolving void, and the stamp shape).
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  invalidateTags(tags: readonly string[], at?: number): Promise<any>
  lock(key: string, ttlMs: number): Promise<Lock | undefined>
  acquire(key: string, ttlMs: number, waitMs: number): Promise<LockAttempt>
  /** How long the objects keep tag stamps (stores used with it should cap entries to this). */
  readonly tagTtl: number
}

/** Origin of the requests to the objects; never leaves the Durable Object binding. */
const ORIGIN = 'https://tiercache.do'

/** Most keys whose last read one isolate remembers for its next lock request (the oldest are forgotten first). */
const MAX_READS = 10_000


/**
 * A Coordinator on Durable Objects: tag stamps and per-key locks with no service outside Cloudflare.
 *
 * - Tags: `invalidateTags` takes a new stamp from one clock object (strictly increasing) and records it on each
 *   tag in the tag's shard object (durable storage, strongly consistent). Tag checks answer from a per-isolate copy
 *   read at most `tagCacheTtl` ago, synchronously; otherwise one request per shard involved. Staleness bound: an
 *   invalidation made anywhere is seen by every isolate within `tagCacheTtl`; by the invalidating isolate at once.
 * - Soft records (`softRecords`): a soft invalidation records its stamp on the tag `'%soft:' + tag` like any tag,
 *   in the shard object of the tag itself, so core's question for a tag and its soft record is one request per
 *   shard (as for the tag alone), under the same staleness bound.
 * - Locks: in the key's shard object. An isolate that does not get the lock does not poll: its request is held by
 *   the object until the holder shares its entry (`Lock.share`, answered with the entry itself), releases without
 *   one (uncacheable answer, failure: the waiter loads at once), its lock expires, or the wait ends. Every wait is
 *   bounded by the waiter's own timer as well. A kvStore given this coordinator (`coordinator` option) tells it what
 *   its read found, and a lock request sends that along: when the read found an entry and the key's last holder
 *   shared a newer one (within a minute, KV's propagation time), the object answers with that instead of the lock, so
 *   an isolate whose read began before another isolate's load wrote does not load again (no request more).
 *
 * Bind the object once (see TiercacheCoordinator) and build the coordinator once per isolate.
 *
 * @example
 * export { TiercacheCoordinator } from '@tiercache/edge'
 * const coordinator = durableObjectCoordinator({ namespace: env.TIERCACHE })
 * const cache = createCache({ tiers: [cacheApiStore(), kvStore({ namespace: env.CACHE_KV })], coordinator })
 */
export function durableObjectCoordinator(options: DurableObjectCoordinatorOptions): DurableObjectCoordinator {
  assertOptions(options, 'durableObjectCoordinator(options)')
  const ns = options.namespace
  if (typeof ns !== 'object' || ns === null || typeof ns.idFromName !== 'function' || typeof ns.get !== 'function') {
    throw new TypeError(`options.namespace must be a Durable Object namespace binding (env.TIERCACHE), got ${typeOf(ns)}`)
  }
  optionalString(options.prefix, 'options.prefix', undefined, 64, { empty: true })
  optionalInteger(options.shards, 'options.shards', 1, 1_024)
  optionalInteger(options.maxTags, 'options.maxTags', 1)
  optionalFunction(options.now, 'options.now')
  const coordinator = new DurableObjectTagCoordinator(options)
  linkReads(coordinator, coordinator.link)
  return coordinator
}

class DurableObjectTagCoordinator implements DurableObjectCoordinator {
  readonly name = 'durable-object'
  readonly softRecords = true
  readonly tagTtl: number
  readonly #namespace: DurableObjectNamespaceLike
  readonly #prefix: string
  readonly #shards: number
  readonly #timeout: number
  readonly #now: () => number
  /** Object ids by name (deriving one hashes the name). */
  readonly #ids = new Map<string, unknown>()
  /** The stamps this isolate knows: the greatest of all, and each tag's (core/kit's TagStamps, shared by every coordinator). */
  readonly #stamps: TagStamps
  readonly #readTags = (tags: string[], now: number): Promise<number[]> => this.#read(tags, now)
  /** Whether the current stamp came from the clock object (or an invalidation) at least once. */
  #stampKnown = false
  /** Per key, what a linked store's last read found (its createdAt, 0 for none) and when: see ReadLink. */
  readonly #reads = new Map<string, { createdAt: number; at: number }>()
  readonly link: ReadLink = {
    read: (key, createdAt) => {
      this.#reads.delete(key)
      this.#reads.set(key, { createdAt, at: this.#now() })
      if (this.#reads.size > MAX_READS) this.#reads.delete(this.#reads.keys().next().value as string)
    },
  }

  constructor(options: DurableObjectCoordinatorOptions) {
    this.#namespace = options.namespace
    this.#prefix = options.prefix ?? 'tc:'
    this.#shards = options.shards ?? 8
    const tagCacheTtl = optionalDuration(options.tagCacheTtl, 'options.tagCacheTtl') ?? 5_000
    this.tagTtl = optionalDuration(options.tagTtl, 'options.tagTtl', undefined, { positive: true }) ?? 30 * 86_400_000
    this.#timeout = optionalDuration(options.timeout, 'options.timeout', undefined, { positive: true }) ?? 1_000
    this.#now = options.now ?? Date.now
    this.#stamps = new TagStamps({ trustFor: tagCacheTtl, maxTags: options.maxTags ?? 10_000, now: this.#now })
  }

  stamp(): number | Promise<number> {
    if (this.#stampKnown) return this.#stamps.loadStamp()
    // Not shared with other callers: in workerd a request must not wait on a read another request started.
    return this.#call(this.#clock(), '/stamp/read', {}, 'stamp').then((answer) => {
      this.#stamps.raise((answer as { stamp: number }).stamp)
      this.#stampKnown = true
      return this.#stamps.current
    })
  }

  invalidatedAt(tags: readonly string[]): number | Promise<number> {
    return this.tagStamp(tags)
  }

  tagStamp(tags: readonly string[]): number | Promise<number> {
    return this.#stamps.tagStamp(tags, this.#readTags)
  }

  async invalidateTags(tags: readonly string[]): Promise<number> {
    if (tags.length === 0) return this.#stamps.current
    // This isolate stops serving at once, before the objects have answered (its reads see its own write); failed
    // part-way, the tags stay dead here until read again after tagCacheTtl.
    return this.#stamps.invalidate(tags, async () => {
      const { stamp } = (await this.#call(this.#clock(), '/stamp', { known: this.#stamps.current }, 'invalidateTags')) as { stamp: number }
      this.#stamps.raise(stamp)
      this.#stampKnown = true
      await Promise.all(
        [...this.#byShard(tags)].map(async ([shard, group]) => {
          const answer = (await this.#call(shard, '/tags/raise', { tags: group, stamp, ttl: this.tagTtl }, 'invalidateTags')) as { stamp: number }
          this.#stamps.raise(answer.stamp)
        }),
      )
      return stamp
    })
  }

  async lock(key: string, ttlMs: number): Promise<Lock | undefined> {
    const attempt = await this.acquire(key, ttlMs, 0)
    return attempt.status === 'acquired' ? attempt.lock : undefined
  }

  async acquire(key: string, ttlMs: number, waitMs: number): Promise<LockAttempt> {
    const shard = this.#shard(`k${key}`)
    let query = `key=${encodeURIComponent(key)}&ttl=${Math.max(1, Math.ceil(ttlMs))}&wait=${Math.max(0, Math.floor(waitMs))}`
    // What this isolate's read before it found (a linked store): an older copy than a holder shared gets that one.
    const read = this.#reads.get(key)
    if (read !== undefined) {
      this.#reads.delete(key)
      // A read that found nothing asks for the lock as before: a miss after an invalidation must not get an entry
      // the invalidation killed, which would send every such caller to load without the lock.
      if (read.createdAt > 0 && this.#now() - read.at < ttlMs) query += `&have=${read.createdAt}`
    }
    // The object answers by the end of the wait; this isolate's own timer adds the usual request timeout.
    const response = await this.#send(shard, `/lock/acquire?${query}`, undefined, 'lock', this.#timeout + waitMs, (late) => {
      // Given up on, the lock may still have been taken: release it so that nobody waits for a holder that left.
      const token = late.headers.get(TOKEN_HEADER)
      if (late.headers.get(LOCK_HEADER) === 'acquired' && token !== null) return this.#lock(shard, key, token).release()
      return late.body?.cancel()
    })
    const status = response.headers.get(LOCK_HEADER)
    if (status === 'acquired') {
      const token = response.headers.get(TOKEN_HEADER) ?? ''
      await response.body?.cancel()
      return { status, lock: this.#lock(shard, key, token) }
    }
    if (status === 'shared') {
      const entry = decodeEntry(await response.text())
      return entry === undefined ? { status: 'released' } : { status, entry }
    }
    await response.body?.cancel()
    if (status === 'released' || status === 'timeout') return { status }
    throw new CacheError('COORDINATOR_ERROR', `durable object coordinator: lock answered ${response.status} without a lock status`)
  }

  #lock(shard: string, key: string, token: string): Lock {
    const query = `key=${encodeURIComponent(key)}&token=${encodeURIComponent(token)}`
    return {
      share: async (entry) => {
        const created = Number.isSafeInteger(entry.createdAt) && entry.createdAt > 0 ? `&created=${entry.createdAt}` : ''
        await (await this.#send(shard, `/lock/share?${query}${created}`, encodeEntry(entry), 'share', this.#timeout)).body?.cancel()
      },
      release: async () => {
        await (await this.#send(shard, `/lock/release?${query}`, undefined, 'release', this.#timeout)).body?.cancel()
      },
    }
  }

  /**
   * Reads the stamps of `tags`, one request per shard. Reads are not shared between callers: in workerd a request
   * must not wait on a read another request started (and may not outlive).
   */
  async #read(tags: string[], checkedAt: number): Promise<number[]> {
    const stamps = new Map<string, number>()
    await Promise.all(
      [...this.#byShard(tags)].map(async ([shard, group]) => {
        const answer = (await this.#call(shard, '/tags/read', { tags: group }, 'invalidatedAt')) as { stamp: number; tags: number[] }
        this.#stamps.raise(answer.stamp)
        group.forEach((tag, i) => {
          this.#stamps.remember(tag, answer.tags[i] ?? 0, checkedAt)
          stamps.set(tag, this.#stamps.stampOf(tag))
        })
      }),
    )
    return tags.map((tag) => stamps.get(tag) ?? 0)
  }

  #byShard(tags: readonly string[]): Map<string, string[]> {
    const groups = new Map<string, string[]>()
    for (const tag of tags) {
      const shard = this.#shard(`t${tag.startsWith(SOFT_TAG) ? tag.slice(SOFT_TAG.length) : tag}`)
      const group = groups.get(shard)
      if (group === undefined) groups.set(shard, [tag])
      else if (!group.includes(tag)) group.push(tag)
    }
    return groups
  }

  #clock(): string {
    return `${this.#prefix}stamp`
  }

  /**
   * The shard object holding a tag (`t…`) or a key's lock (`k…`). A tag's soft record (`'%soft:' + tag`) is kept
   * with the tag, so that core's question for both is one request per shard.
   */
  #shard(name: string): string {
    return `${this.#prefix}shard:${fnv1a(name) % this.#shards}`
  }

  async #call(object: string, path: string, body: unknown, operation: string): Promise<unknown> {
    const response = await this.#send(object, path, JSON.stringify(body), operation, this.#timeout)
    return response.json()
  }

  /**
   * One request to the named object, failing after `ms` on this isolate's own timer, or on a non-2xx answer;
   * `late` gets an answer that arrives after the timeout.
   */
  async #send(object: string, path: string, body: string | undefined, operation: string, ms: number, late?: (response: Response) => unknown): Promise<Response> {
    let id = this.#ids.get(object)
    if (id === undefined) {
      id = this.#namespace.idFromName(object)
      this.#ids.set(object, id)
    }
    // A stub per request: stubs are I/O objects of the request that made them.
    const stub = this.#namespace.get(id as never)
    const sent = stub.fetch(`${ORIGIN}${path}`, { method: 'POST', body })
    let response: Response
    try {
      response = await withDeadline(sent, ms, () => {
        throw new CacheError('COORDINATOR_ERROR', `durable object coordinator: ${operation} got no answer from ${object} within ${ms} ms`)
      })
    } catch (error) {
      if (late !== undefined) sent.then(late).catch(noop)
      throw error
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '')
      throw new CacheError('COORDINATOR_ERROR', `durable object coordinator: ${operation} failed in ${object}: ${response.status} ${text}`)
    }
    return response
  }
}


/** FNV-1a, 32 bits: a stable spread of names over shards. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}
