import { Circuit, type CircuitBreakerOptions, type Coordinator, type Duration, type Entry, type Lock, type Store } from '@tiercache/core'
import { encodeEntry, softTags } from '@tiercache/core/store'
import {
  INVALIDATE_TAGS,
  parseStamp,
  parseTagStamps,
  redisLayout,
  RELEASE_AND_HAND,
  RELEASE_LOCK,
  SHARE_WITH_WAITERS,
  tagStampKeys,
  type RedisLayout,
} from '@tiercache/core/redis'
import { assertOptions, optionalDuration, optionalFunction, optionalInteger, optionalString, TagStamps, typeOf, withDeadline } from '@tiercache/core/kit'
import { randomUUID } from 'node:crypto'
import { RedisBus, type BusEvent } from './bus.js'
import { assertRedisClient, pipelineResult, type RedisClient } from './client.js'
import { registerLink } from './link.js'

export interface RedisCoordinatorOptions {
  /** An ioredis client (single node or Cluster), on the same database as the redisStore it works with. */
  client: RedisClient
  /**
   * Prefix of its Redis keys, in the layout of `@tiercache/core/redis` shared with upstashCoordinator: the stamp at
   * `<prefix>{tags}:stamp`, tags at `<prefix>{tags}:tag:<tag>`, locks at `<prefix>lock:<key>`. No `{` or `}`.
   * @default 'tc:'
   */
  prefix?: string
  /**
   * How long this process trusts a tag stamp it read from Redis, when the bus said nothing about the tag: the
   * staleness bound of invalidations that do not come over the bus (a Worker's through Upstash, a message missed).
   * @default '5s'
   */
  tagCacheTtl?: Duration
  /** How long Redis keeps a tag's stamp; entries must not live longer (redisStore caps them). @default '30d' */
  tagTtl?: Duration
  /** A Redis call slower than this fails (core then serves what the tiers hold, or loads without a lock). @default '1s' */
  timeout?: Duration
  /** The circuit breaker in front of the coordinator's Redis calls, or false. @default { failures: 5, cooldown: '500ms' } */
  breaker?: CircuitBreakerOptions | false
  /**
   * The invalidation bus on pub/sub, or false for none. On by default: writes, deletes and tag invalidations made
   * here reach every other server of the same prefix within milliseconds.
   */
  bus?: RedisBusOptions | false
  /** Most tag stamps one process remembers; the least recently read are forgotten first. @default 10000 */
  maxTags?: number
  /** Clock for the local tag cache, in epoch ms. @default Date.now */
  now?: () => number
}

export interface RedisBusOptions {
  /**
   * The in-process tiers of this server (usually the memoryStore L1) that the bus drops a key from when another
   * server writes or deletes it, and clears after a gap in the bus (messages may have been missed). @default []
   */
  local?: readonly Store[]
  /** The pub/sub channel. @default '<prefix>bus' */
  channel?: string
  /**
   * How often the bus publishes a heartbeat to itself; three missed in a row mark it down (invalidations may be
   * lost until it is up again, then local tiers are cleared). @default '1s'
   */
  heartbeat?: Duration
  /** Told when the bus goes up or down, and of each message from another server (with its delay). */
  onEvent?: (event: BusEvent) => void
}

/** A redisCoordinator: a Coordinator, with its bus and a way to close the bus's connection. */
export interface RedisCoordinator extends Coordinator {
  /** The bus, when on: `up` says whether its subscription works. */
  readonly bus: { readonly up: boolean; readonly channel: string; readonly id: string } | undefined
  /**
   * The greatest stamp this process has seen (from an invalidation here or a read); 0 before any. Synchronous, except
   * while this process is invalidating tags: then a Promise of the stamp once that settled (what a load starting now
   * records, so that it outlives the invalidation it started after).
   */
  stamp(): number | Promise<number>
  /** Closes the bus's subscriber connection and stops its heartbeat (the app's client stays open). */
  close(): void
}

const INVALIDATE_COMMAND = 'tiercacheInvalidateTags'
const RELEASE_COMMAND = 'tiercacheReleaseLock'
const RELEASE_AND_HAND_COMMAND = 'tiercacheReleaseAndHand'
const SHARE_COMMAND = 'tiercacheShareWithWaiters'

/**
 * A Coordinator on Redis over TCP, in the key layout every tiercache coordinator on Redis shares
 * (`@tiercache/core/redis`), so that servers and Workers (upstashCoordinator on the same database) invalidate each
 * other's entries and take each other's locks. Works on a single node and on a Cluster (tag keys share the
 * `{tags}` slot).
 *
 * - Tags: `invalidateTags` runs the shared INVALIDATE_TAGS script (a new stamp from Redis' clock, raised on every
 *   tag atomically) and publishes the tags on the bus in the same round trip. `tagStamp` answers from this
 *   process's copy of tag stamps, read at most `tagCacheTtl` ago, synchronously; otherwise one MGET (which also
 *   brings the current stamp, what `stamp()` answers). While its own invalidation is on its way, this process
 *   treats the tags as invalidated at +Infinity.
 * - Locks: `SET <prefix>lock:<key> <token> NX PX`, released by the shared compare-and-delete script. On a single
 *   node, the holder also answers the Workers waiting on its lock (upstashCoordinator's waiters block on the
 *   holder's hand-over list): it hands them its fresh entry as soon as the load produced it (`Lock.share`), or tells
 *   them to load when it releases without one, so they do not wait out their lockWait. (On a Cluster the hand-over
 *   keys would leave the lock's slot: plain releases there.) Waiters here poll the shared tier as before.
 * - Bus: see RedisBusOptions. Without it, an invalidation made on another server is seen here within `tagCacheTtl`.
 *
 * @example
 * const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
 * const l1 = memoryStore({ maxEntries: 10_000 })
 * const coordinator = redisCoordinator({ client, bus: { local: [l1] } })
 * const cache = createCache({ tiers: [l1, redisStore({ client, coordinator })], coordinator })
 */
export function redisCoordinator(options: RedisCoordinatorOptions): RedisCoordinator {
  assertOptions(options, 'redisCoordinator(options)')
  assertRedisClient(options.client, 'options.client')
  optionalFunction(options.now, 'options.now')
  const { bus, breaker, maxTags } = options
  if (bus !== undefined && bus !== false) {
    assertOptions(bus, 'options.bus')
    if (bus.local !== undefined && (!Array.isArray(bus.local) || bus.local.some((s) => typeof s !== 'object' || s === null || typeof (s as Store).delete !== 'function'))) {
      throw new TypeError('options.bus.local must be an array of stores (the in-process tiers, e.g. [memoryStore()])')
    }
    optionalString(bus.channel, 'options.bus.channel')
    optionalFunction(bus.onEvent, 'options.bus.onEvent')
  }
  if (breaker !== undefined && breaker !== false && (typeof breaker !== 'object' || breaker === null)) {
    throw new TypeError(`options.breaker must be circuit breaker options or false, got ${typeOf(breaker)}`)
  }
  optionalInteger(maxTags, 'options.maxTags', 1)
  const coordinator = new RedisTagCoordinator(options)
  registerLink(coordinator, {
    channel: coordinator.bus?.channel,
    keysMessage: (keys) => (coordinator.bus as RedisBus).keysMessage(keys),
    tagTtl: coordinator.tagTtl,
    heard: () => coordinator.bus?.heard ?? 0,
    evictedSince: (key, heard) => coordinator.bus?.evictedSince(key, heard) ?? false,
  })
  return coordinator
}

class RedisTagCoordinator implements RedisCoordinator {
  readonly name = 'redis'
  /**
   * Soft records (`'%soft:' + tag`, core/redis layout) are ordinary tags here: `tagStamp` reads a tag and its soft
   * record in one MGET, the bus forgets them like any tag, and upstashCoordinator reads the same keys.
   */
  readonly softRecords = true
  readonly tagTtl: number
  readonly bus: RedisBus | undefined
  readonly #client: RedisClient
  readonly #layout: RedisLayout
  readonly #now: () => number
  readonly #circuit: Circuit | undefined
  readonly #timeout: number
  /** The stamps this process knows: the greatest of all, and each tag's (core/kit's TagStamps, shared by every coordinator). */
  readonly #stamps: TagStamps
  readonly #readTags = (tags: string[]): Promise<number[]> => this.#read(tags)

  constructor(options: RedisCoordinatorOptions) {
    this.#client = options.client
    this.#layout = redisLayout(options.prefix)
    const tagCacheTtl = optionalDuration(options.tagCacheTtl, 'options.tagCacheTtl') ?? 5_000
    this.tagTtl = optionalDuration(options.tagTtl, 'options.tagTtl', undefined, { positive: true }) ?? 30 * 86_400_000
    this.#timeout = optionalDuration(options.timeout, 'options.timeout', undefined, { positive: true }) ?? 1_000
    this.#now = options.now ?? Date.now
    this.#stamps = new TagStamps({ trustFor: tagCacheTtl, maxTags: options.maxTags ?? 10_000, now: this.#now })
    this.#circuit = options.breaker === false ? undefined : new Circuit('redis coordinator', options.breaker ?? {}, this.#timeout)
    defineScripts(this.#client)
    const bus = options.bus
    if (bus !== false) {
      const heartbeat = optionalDuration(bus?.heartbeat, 'options.bus.heartbeat', undefined, { positive: true }) ?? 1_000
      this.bus = new RedisBus(
        this.#client,
        { channel: bus?.channel ?? `${this.#layout.prefix}bus`, local: bus?.local ?? [], heartbeat, remember: 10_000, onEvent: bus?.onEvent },
        {
          tags: (tags) => this.#stamps.recheck(tags),
          gap: () => this.#stamps.recheck(),
        },
      )
    }
  }

  stamp(): number | Promise<number> {
    return this.#stamps.loadStamp()
  }

  close(): void {
    this.bus?.close()
  }

  tagStamp(tags: readonly string[]): number | Promise<number> {
    return this.#stamps.tagStamp(tags, this.#readTags)
  }

  async invalidateTags(tags: readonly string[]): Promise<number> {
    if (tags.length === 0) return this.#stamps.current
    // This process stops serving at once, before Redis has answered. After a failure, whether Redis recorded it is
    // unknown: the next question about these tags goes to Redis ('reread').
    const keys = tagStampKeys(this.#layout, tags)
    return this.#stamps.invalidate(
      tags,
      async () => {
        const results = await this.#call('invalidateTags', () => {
          const pipeline = this.#client.pipeline()
          ;(pipeline as unknown as Record<string, (...args: unknown[]) => unknown>)[INVALIDATE_COMMAND]!(keys.length, ...keys, String(this.tagTtl))
          if (this.bus !== undefined) pipeline.publish(this.bus.channel, this.bus.tagsMessage(tags))
          return pipeline.exec()
        })
        const stamp = parseStamp(pipelineResult(results, 0))
        if (stamp === 0) throw new Error('redis coordinator: invalidateTags got no stamp from the INVALIDATE_TAGS script')
        return stamp
      },
      'reread',
    )
  }

  async lock(key: string, ttlMs: number): Promise<Lock | undefined> {
    const lockKey = this.#layout.lockKey(key)
    const token = randomUUID()
    const px = Math.max(1, Math.ceil(ttlMs))
    const taking = this.#client.set(lockKey, token, 'PX', px, 'NX')
    let taken: unknown
    try {
      taken = await this.#call('lock', () => taking)
    } catch (error) {
      // Given up on, the SET may still land: release what it took so that nobody waits for a holder that left.
      taking.then((late) => (late === 'OK' ? this.#release(lockKey, token) : undefined)).catch(() => undefined)
      throw error
    }
    if (taken !== 'OK') return undefined
    if (this.#client.isCluster) return { release: () => this.#release(lockKey, token) }
    const waitPrefix = this.#layout.waitPrefix
    const command = (name: string, ...args: unknown[]): Promise<unknown> =>
      this.#call(name, () => (this.#client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!(...args))
    return {
      // Hands the entry to the waiters registered so far; the lock stays until the tiers hold the entry.
      share: async (entry: Entry) => {
        const tags = entry.tags ?? []
        const keys = tagStampKeys(this.#layout, tags.length === 0 ? tags : [...tags, ...softTags(tags)])
        await command(SHARE_COMMAND, keys.length, ...keys, token, waitPrefix, String(px), encodeEntry(entry))
      },
      // Compare-and-delete, and waiters registered since (or all, without a share) are told to load.
      release: async () => {
        await command(RELEASE_AND_HAND_COMMAND, 1, lockKey, token, waitPrefix, String(px))
      },
    }
  }

  async #release(lockKey: string, token: string): Promise<void> {
    await this.#call('release', () => (this.#client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[RELEASE_COMMAND]!(1, lockKey, token))
  }

  /** Reads the stamps of `tags` (and the current stamp) with one MGET, joining reads in flight. */
  #read(tags: string[]): Promise<number[]> {
    return this.#stamps.join(tags, (fresh) => {
      const checkedAt = this.#now()
      return this.#call('tagStamp', () => this.#client.mget(...tagStampKeys(this.#layout, fresh))).then((reply) => {
        const { stamp, tags: stamps } = parseTagStamps(reply, fresh.length)
        this.#stamps.raise(stamp)
        fresh.forEach((tag, i) => this.#stamps.remember(tag, stamps[i] as number, checkedAt))
      })
    })
  }

  #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (this.#circuit !== undefined) return this.#circuit.run(operation, run)
    return withDeadline(run(), this.#timeout, () => {
      throw new Error(`redis coordinator: ${operation} got no answer from Redis within ${this.#timeout} ms`)
    })
  }
}

/** Defines the shared scripts on the client once (ioredis sends EVALSHA, and EVAL when Redis does not know it). */
function defineScripts(client: RedisClient): void {
  const named = client as unknown as Record<string, unknown>
  if (typeof named[INVALIDATE_COMMAND] !== 'function') client.defineCommand(INVALIDATE_COMMAND, { lua: INVALIDATE_TAGS })
  if (typeof named[RELEASE_COMMAND] !== 'function') client.defineCommand(RELEASE_COMMAND, { lua: RELEASE_LOCK })
  if (typeof named[RELEASE_AND_HAND_COMMAND] !== 'function') client.defineCommand(RELEASE_AND_HAND_COMMAND, { lua: RELEASE_AND_HAND })
  if (typeof named[SHARE_COMMAND] !== 'function') client.defineCommand(SHARE_COMMAND, { lua: SHARE_WITH_WAITERS })
}
