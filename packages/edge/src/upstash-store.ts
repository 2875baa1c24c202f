import type { Coordinator, Duration, Entry, Store } from '@tiercache/core'
import { decodeEntry, encodeEntry, lastServable, softTags } from '@tiercache/core/store'
import { assertRedisClient, type RedisClient } from './redis-client.js'
import { READ_WITH_TAG_STAMPS, tagStampKeys } from '@tiercache/core/redis'
import { tagLinkOf, type TagLink } from './upstash-coordinator.js'
import { READ_AND_LOCK, WRITE_AND_RELEASE } from './upstash-locks.js'
import { assertOptions, optionalBoolean, optionalDuration, optionalFunction, optionalString, typeOf } from '@tiercache/core/kit'

/** Upstash's largest request (Free and Pay as you go databases). */
const UPSTASH_MAX_REQUEST_BYTES = 10_000_000

export interface UpstashStoreOptions {
  /** An `@upstash/redis` client (with a request timeout: `signal: () => AbortSignal.timeout(ms)`). */
  redis: RedisClient
  /** Prefixed to every key this store writes. @default 'tc:v:' */
  prefix?: string
  /**
   * The upstashCoordinator of the same cache (same database): reads then fetch the stamps of the
   * entry's tags (and the current stamp) in the same round trip (one EVAL_RO), so checking tags after an L2 read
   * costs no extra call.
   */
  coordinator?: Coordinator
  /**
   * Linked to a coordinator: a read that a load follows (getOrSet) takes the lock in the same script when the entry
   * is missing (a full miss costs 2 requests, not 3). That script writes, so every such read goes to the primary
   * region; set false with an Upstash Global database whose read regions should answer L2 hits (EVAL_RO).
   * @default true
   */
  lockInRead?: boolean
  /**
   * Longest time an entry stays here; core ends every window of what it writes by then.
   * @default the coordinator's tagTtl when linked to one (an entry must not outlive the record of its tags), else none
   */
  maxTtl?: Duration
  /** Overrides the cache's `tierTimeout` for this store. @default the cache's tierTimeout */
  timeout?: Duration
  /**
   * Largest value a codec (`createCache({ codec })`) writes here, in bytes. @default 10000000 (Upstash's 10 MB
   * request limit)
   */
  maxValueBytes?: number
  /** Clock for remaining lifetimes (PX), in epoch ms; give it the cache's clock. @default Date.now */
  now?: () => number
  /** The store's name in stats, events and Cache-Status. @default 'upstash' */
  name?: string
}

/**
 * A Store on Upstash Redis over HTTP, shared by every isolate and region. Each entry is one string key holding
 * its envelope, expiring (PX) at the entry's last servable moment. `getMany` is one request (MGET, or the
 * tag-reading script when linked to a coordinator), `setMany` one pipeline. A value that does not decode is
 * deleted and reads as a miss.
 *
 * Linked to an upstashCoordinator, a full miss costs 2 requests: getOrSet's read takes the lock when the entry is
 * missing (`lockInRead`), and the write of the loaded entry releases it and hands the entry to the isolates waiting
 * for it (each waits with one BLPOP, no polling), with the tag stamps they need to check it.
 *
 * @example
 * import { Redis } from '@upstash/redis/cloudflare'
 * const redis = new Redis({ url, token, signal: () => AbortSignal.timeout(1000) })
 * const coordinator = upstashCoordinator({ redis })
 * const l2 = upstashStore({ redis, coordinator })
 */
export function upstashStore(options: UpstashStoreOptions): Store {
  assertOptions(options, 'upstashStore(options)')
  assertRedisClient(options.redis, 'options.redis')
  optionalString(options.prefix, 'options.prefix', undefined, 128, { empty: true })
  optionalString(options.name, 'options.name', undefined, 64)
  optionalFunction(options.now, 'options.now')
  optionalBoolean(options.lockInRead, 'options.lockInRead')
  const { coordinator } = options
  if (coordinator !== undefined && (typeof coordinator !== 'object' || coordinator === null || typeof coordinator.tagStamp !== 'function')) {
    throw new TypeError(`options.coordinator must be a Coordinator (upstashCoordinator({ redis })), got ${typeOf(coordinator)}`)
  }
  const ownMaxTtl = optionalDuration(options.maxTtl, 'options.maxTtl')
  if (ownMaxTtl === 0) throw new RangeError('options.maxTtl must be longer than 0 ms')
  const timeout = optionalDuration(options.timeout, 'options.timeout')
  const { maxValueBytes = UPSTASH_MAX_REQUEST_BYTES } = options
  if (!Number.isInteger(maxValueBytes) || maxValueBytes < 1) throw new RangeError(`options.maxValueBytes must be a positive integer, got ${String(maxValueBytes)}`)
  const redis = options.redis
  const prefix = options.prefix ?? 'tc:v:'
  const now = options.now ?? Date.now
  // Only an upstashCoordinator keeps its tags where the read script can find them.
  const link = coordinator === undefined ? undefined : tagLinkOf(coordinator)
  const maxTtl = ownMaxTtl ?? link?.tagTtl
  const lockInRead = options.lockInRead ?? true

  /** Decodes what Redis returned for `key`; deletes it when it is not an entry. */
  async function decoded(key: string, raw: unknown, link: TagLink | undefined, stamps: unknown, readAt: number): Promise<Entry | undefined> {
    if (raw === null || raw === undefined) return undefined
    // The client parses JSON replies itself unless told not to: both an object and a string can arrive.
    const entry = decodeEntry(raw)
    if (entry === undefined) {
      await redis.del(key)
      return undefined
    }
    // The read script answers the stamps of the entry's tags, then those of their soft records (core/redis layout).
    if (link !== undefined && entry.tags !== undefined && Array.isArray(stamps) && stamps.length === 2 * entry.tags.length) {
      link.remember(withSoftRecords(entry.tags), stamps, readAt)
    }
    // Redis expires the key on its own clock; an injected clock may already be past the entry.
    return lastServable(entry) > now() ? entry : undefined
  }

  /**
   * Reads entries; `lockTtl` (a single key whose miss a load follows) also takes the coordinator's lock in the same
   * script when the entry is missing, or registers as a waiter of its holder.
   */
  async function readMany(keys: readonly string[], lockTtl?: number): Promise<(Entry | undefined)[]> {
    if (keys.length === 0) return []
    const full = keys.map((key) => prefix + key)
    if (link === undefined) {
      const raws = await redis.mget(...full)
      return Promise.all(full.map((key, i) => decoded(key, raws[i], undefined, undefined, 0)))
    }
    const readAt = link.now()
    const { layout } = link
    const lockArgs = lockTtl === undefined ? undefined : link.lockArgs(keys[0] as string, lockTtl)
    const rows =
      lockArgs === undefined
        ? await redis.evalRo(READ_WITH_TAG_STAMPS, full, [layout.tagPrefix, layout.stampKey])
        : await redis.eval(READ_AND_LOCK, full, [layout.tagPrefix, layout.stampKey, ...lockArgs])
    if (lockArgs !== undefined && Array.isArray(rows)) link.lockRead(keys[0] as string, lockArgs, rows.length === 3 ? rows.pop() : undefined)
    if (!Array.isArray(rows) || rows.length !== full.length + 1) {
      throw new Error(`upstashStore: the read script answered ${Array.isArray(rows) ? `${rows.length} rows` : typeOf(rows)} for ${full.length} keys`)
    }
    // The current stamp comes first: an entry this isolate loads next is never killed by what it has just read.
    link.raise(rows[0])
    return Promise.all(
      full.map((key, i) => {
        const row: unknown = rows[i + 1]
        return Array.isArray(row) ? decoded(key, row[0], link, row[1], readAt) : decoded(key, row, undefined, undefined, readAt)
      }),
    )
  }

  /**
   * Writes entries in one pipeline. Linked to a coordinator, the same request reads the current stamp and the
   * stamps of their tags, so that the isolate that wrote an entry can check it later without a request of its own.
   */
  async function writeMany(items: readonly (readonly [string, Entry])[]): Promise<void> {
    if (items.length === 0) return
    const held = items.length === 1 && link !== undefined ? link.heldLock((items[0] as readonly [string, Entry])[0]) : undefined
    if (held !== undefined && (await writeAndRelease(items[0] as readonly [string, Entry], link as TagLink, held))) return
    const batch = redis.pipeline()
    const time = now()
    const tags = new Set<string>()
    for (const [key, entry] of items) {
      const px = Math.ceil(lastServable(entry) - time)
      // Nothing servable is left: what was stored under the key is replaced by nothing (PX must be > 0).
      if (px <= 0) batch.del(prefix + key)
      else {
        batch.set(prefix + key, encodeEntry(entry), { px })
        if (link !== undefined && entry.tags !== undefined) for (const tag of entry.tags) tags.add(tag)
      }
    }
    if (link === undefined || tags.size === 0) {
      await batch.exec()
      return
    }
    const names = withSoftRecords([...tags])
    const readAt = link.now()
    batch.mget(...tagStampKeys(link.layout, names))
    const results = await batch.exec()
    const stamps: unknown = results[results.length - 1]
    if (Array.isArray(stamps) && stamps.length === names.length + 1) {
      link.raise(stamps[0])
      link.remember(names, stamps.slice(1), readAt)
    }
  }

  /**
   * Writes the entry of a key whose lock this isolate holds, releases the lock and hands the entry (as written) to
   * the lock's waiters, and reads the entry's tag stamps: one request. False when there is nothing to write.
   */
  async function writeAndRelease([key, entry]: readonly [string, Entry], link: TagLink, held: NonNullable<ReturnType<TagLink['heldLock']>>): Promise<boolean> {
    const px = Math.ceil(lastServable(entry) - now())
    if (px <= 0) return false
    // Soft records too: the waiters it hands the entry to check them as well, without a request of their own.
    const names = withSoftRecords(entry.tags ?? [])
    const readAt = link.now()
    const stamps = await redis.eval(WRITE_AND_RELEASE, [prefix + key, held.lockKey], [encodeEntry(entry), String(px), ...held.args, ...tagStampKeys(link.layout, names)])
    link.handed(key, held.token)
    if (Array.isArray(stamps) && stamps.length === names.length + 1) {
      link.raise(stamps[0])
      link.remember(names, stamps.slice(1), readAt)
    }
    return true
  }

  return {
    name: options.name ?? 'upstash',
    maxTtl,
    maxValueBytes,
    timeout,
    async get(key, intent) {
      return (await readMany([key], lockInRead ? intent?.lockTtl : undefined))[0]
    },
    getMany: readMany,
    async set(key, entry) {
      await writeMany([[key, entry]])
    },
    setMany: writeMany,
    async delete(key) {
      await redis.del(prefix + key)
    },
  }
}

/** Tags followed by their soft records (`'%soft:' + tag`): a linked coordinator reads both in one request. */
function withSoftRecords(tags: readonly string[]): string[] {
  return tags.length === 0 ? [] : [...tags, ...softTags(tags)]
}
