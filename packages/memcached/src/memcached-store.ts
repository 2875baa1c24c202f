import { createHash } from 'node:crypto'
import { circuitBreaker, type CircuitBreakerOptions, type Duration, type Entry, type Store } from '@tiercache/core'
import { decodeEntry, encodeEntryBytes, lastServable } from '@tiercache/core/store'
import { assertOptions, optionalDuration, optionalFunction, optionalInteger, optionalString, typeOf } from '@tiercache/core/kit'

/**
 * The calls tiercache makes on a memjs client (`memjs.Client.create('127.0.0.1:11211', options)`). Declared
 * structurally: memjs is a peer, and tests can wrap a client.
 */
export interface MemcachedClient {
  get(key: string): Promise<{ value: Buffer | string | null; flags: unknown }>
  set(key: string, value: string | Buffer, options: { expires: number }): Promise<boolean>
  delete(key: string): Promise<boolean>
}

export interface MemcachedStoreOptions {
  /**
   * A memjs client: `memjs.Client.create('host:11211,host2:11211', { timeout: 0.5, retries: 1 })`. Several servers
   * are fine: memjs spreads keys over them.
   */
  client: MemcachedClient
  /** Prefixed to every key this store writes. @default 'tc:v:' */
  prefix?: string
  /**
   * Keys longer than this many UTF-8 bytes (prefix included) are stored under `<prefix>#<SHA-256 of the key>`.
   * Memcached refuses keys over 250 bytes. @default 250
   */
  maxKeyBytes?: number
  /**
   * Largest encoded entry, in bytes: a bigger one is not sent (the write fails with a RangeError that core
   * reports as a tier error; the other tiers still get it). Memcached's own limit is its item size, 1 MiB unless
   * started with `-I`. @default 1000000
   */
  maxValueBytes?: number
  /** Longest time an entry stays here; core ends every window of what it writes by then. @default none */
  maxTtl?: Duration
  /** Overrides the cache's `tierTimeout` for this store. @default the cache's tierTimeout */
  timeout?: Duration
  /** The circuit breaker in front of Memcached, or false for none. @default { failures: 5, cooldown: '500ms' } */
  breaker?: CircuitBreakerOptions | false
  /** Clock for remaining lifetimes, in epoch ms. @default the clock of the cache it is given to, else Date.now */
  now?: () => number
  /** The store's name in stats, events and Cache-Status. @default 'memcached' */
  name?: string
}

/** Memcached reads an expiration above 30 days (in seconds) as an absolute Unix time. */
export const RELATIVE_EXPIRY_LIMIT_S = 30 * 86_400

/** Memcached's longest key, in bytes. */
export const MAX_KEY_BYTES = 250

/**
 * A Store on Memcached (memjs, binary protocol). Each entry is one item holding core's envelope (encodeEntryBytes:
 * JSON text, or a binary value or a codec's payload as raw bytes after the JSON header, without base64),
 * expiring at the entry's last servable moment: in whole seconds, rounded up plus one (Memcached's clock ticks
 * once a second), written as an absolute Unix time past 30 days as Memcached requires. `getMany` sends every get
 * at once on the connection (memjs pipelines them), so a batch costs about one round trip. Over-long keys are
 * hashed, over-large values refused with a RangeError. Memcached has no tags and no locks: give the cache a
 * coordinator (redisCoordinator, upstashCoordinator) for tag invalidation and cross-server locks.
 *
 * @example
 * import memjs from 'memjs'
 * const client = memjs.Client.create('127.0.0.1:11211', { timeout: 0.5, retries: 1 })
 * const cache = createCache({ tiers: [memoryStore(), memcachedStore({ client })], coordinator: redisCoordinator({ client: redis }) })
 */
export function memcachedStore(options: MemcachedStoreOptions): Store {
  assertOptions(options, 'memcachedStore(options)')
  const client = options.client as Partial<MemcachedClient> | null | undefined
  if (typeof client !== 'object' || client === null || typeof client.get !== 'function' || typeof client.set !== 'function' || typeof client.delete !== 'function') {
    throw new TypeError(`options.client must be a memjs client (memjs.Client.create('host:11211')), got ${typeOf(client)}`)
  }
  // An empty prefix is allowed: the keys are then core's full keys.
  optionalString(options.prefix, 'options.prefix', undefined, 64, { empty: true })
  optionalString(options.name, 'options.name', undefined, 64)
  optionalFunction(options.now, 'options.now')
  const maxKeyBytes = optionalInteger(options.maxKeyBytes, 'options.maxKeyBytes', 64, MAX_KEY_BYTES) ?? MAX_KEY_BYTES
  const maxValueBytes = optionalInteger(options.maxValueBytes, 'options.maxValueBytes', 1, 1024 * 1024 * 1024) ?? 1_000_000
  const prefix = options.prefix ?? 'tc:v:'
  if (Buffer.byteLength(prefix) + 45 > maxKeyBytes) {
    throw new RangeError(`options.prefix is too long for options.maxKeyBytes (${maxKeyBytes}): a hashed key needs ${Buffer.byteLength(prefix) + 45} bytes`)
  }
  const maxTtl = optionalDuration(options.maxTtl, 'options.maxTtl', undefined, { positive: true })
  const timeout = optionalDuration(options.timeout, 'options.timeout', undefined, { positive: true })
  const { breaker } = options
  if (breaker !== undefined && breaker !== false && (typeof breaker !== 'object' || breaker === null)) {
    throw new TypeError(`options.breaker must be circuit breaker options or false, got ${typeOf(breaker)}`)
  }
  const memcached = client as MemcachedClient
  let now = options.now ?? Date.now
  const ownClock = options.now !== undefined

  /** The Memcached key for a core key: prefixed, or hashed when that is too long. */
  function keyOf(key: string): string {
    const full = prefix + key
    // Each UTF-16 unit is at most 3 UTF-8 bytes: short keys skip the byte count.
    if (full.length * 3 <= maxKeyBytes || Buffer.byteLength(full) <= maxKeyBytes) return full
    return `${prefix}#${createHash('sha256').update(key).digest('base64url')}`
  }

  async function read(key: string): Promise<Entry | undefined> {
    const item = keyOf(key)
    const { value } = await memcached.get(item)
    if (value === null || value === undefined) return undefined
    // Text (a JSON envelope) or bytes (a binary value or a codec's payload raw after the JSON header).
    const entry = decodeEntry(value)
    if (entry === undefined) {
      // Not an entry of this format: nobody can use it.
      memcached.delete(item).catch(() => undefined)
      return undefined
    }
    return lastServable(entry) > now() ? entry : undefined
  }

  async function write(key: string, entry: Entry, time: number): Promise<void> {
    const item = keyOf(key)
    const remaining = lastServable(entry) - time
    if (remaining <= 0) {
      await memcached.delete(item)
      return
    }
    // Memcached keeps bytes: binary values and codec payloads go without base64.
    const data = encodeEntryBytes(entry)
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length
    if (bytes > maxValueBytes) {
      throw new RangeError(`memcachedStore: the entry of key ${JSON.stringify(key.slice(0, 100))} is ${bytes} bytes, over options.maxValueBytes (${maxValueBytes}); not stored`)
    }
    const value = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.length)
    const stored = await memcached.set(item, value, { expires: expiresField(remaining, Date.now()) })
    if (stored !== true) throw new Error(`memcached did not store key ${JSON.stringify(key.slice(0, 100))}`)
  }

  const store: Store = {
    name: options.name ?? 'memcached',
    maxTtl,
    maxValueBytes,
    timeout,
    get: read,
    async getMany(keys) {
      // memjs writes each request at once on the server's connection: all of them travel together.
      const unique = new Map<string, Promise<Entry | undefined>>()
      for (const key of keys) if (!unique.has(key)) unique.set(key, read(key))
      const found = new Map<string, Entry | undefined>()
      await Promise.all([...unique].map(async ([key, entry]) => found.set(key, await entry)))
      return keys.map((key) => found.get(key))
    },
    set: (key, entry) => write(key, entry, now()),
    async setMany(items) {
      const time = now()
      await Promise.all(items.map(([key, entry]) => write(key, entry, time)))
    },
    async delete(key) {
      // false = there was nothing to delete
      await memcached.delete(keyOf(key))
    },
    useClock(clock) {
      if (!ownClock) now = clock
    },
  }
  return breaker === false ? store : circuitBreaker(store, breaker ?? {})
}

/**
 * Memcached's expiration field for an item that must live `remainingMs` more: whole seconds rounded up, plus one
 * because Memcached's clock ticks once a second (an item could otherwise expire up to a second early); past 30
 * days, an absolute Unix time computed from `wallClockMs` (the real clock: Memcached compares it with its own).
 */
export function expiresField(remainingMs: number, wallClockMs: number): number {
  const seconds = Math.ceil(remainingMs / 1_000) + 1
  return seconds <= RELATIVE_EXPIRY_LIMIT_S ? seconds : Math.floor(wallClockMs / 1_000) + seconds
}
