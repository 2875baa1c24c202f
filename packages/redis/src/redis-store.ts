import {
  CacheError,
  circuitBreaker,
  type CircuitBreakerOptions,
  type Coordinator,
  type Duration,
  type Entry,
  type Store,
} from '@tiercache/core'
import { decodeEntry, encodeEntry, encodeEntryBytes, lastServable } from '@tiercache/core/store'
import { assertOptions, optionalBoolean, optionalDuration, optionalFunction, optionalString, typeOf } from '@tiercache/core/kit'
import type { ChainableCommander, Cluster } from 'ioredis'
import { assertRedisClient, pipelineResult, type RedisClient } from './client.js'
import { batchByNode, NodeCircuits, nodeOf } from './cluster-nodes.js'
import { linkOf, type StoreLink } from './link.js'

export interface RedisStoreOptions {
  /**
   * An ioredis client: `new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })` for one server,
   * `new Redis.Cluster(nodes, ...)` for a Cluster. Without the offline queue, a call made while Redis is
   * unreachable fails at once instead of waiting in memory for a reconnect.
   */
  client: RedisClient
  /**
   * Prefixed to every key this store writes. The default is upstashStore's under createEdgeCache, so that a Worker
   * on Upstash and a server on the same database share entries. @default 'tc:v:'
   */
  prefix?: string
  /**
   * The redisCoordinator of the same cache: every write and delete then tells the other servers on its bus, in
   * the same round trip, so that they drop the key from their in-process tiers.
   */
  coordinator?: Coordinator
  /**
   * Longest time an entry stays here; core ends every window of what it writes by then.
   * @default the coordinator's tagTtl when linked to one (an entry must not outlive the record of its tags), else none
   */
  maxTtl?: Duration
  /** Overrides the cache's `tierTimeout` for this store. @default the cache's tierTimeout */
  timeout?: Duration
  /**
   * Keep binary values (a Uint8Array or ArrayBuffer value, a codec's compressed or encrypted payload) as raw bytes
   * after the envelope's JSON header. upstashStore (Redis over HTTP) cannot read such bytes: on a database shared
   * with Workers on Upstash, set false to write them as base64 text, which both read. Either way this store reads
   * both forms. @default true
   */
  bytes?: boolean
  /**
   * The circuit breaker in front of Redis (per node on a Cluster, so that a node that is down does not stop the
   * others), or false for none. @default { failures: 5, cooldown: '500ms', maxCooldown: '5s' }
   */
  breaker?: CircuitBreakerOptions | false
  /**
   * Failures core cannot see because the call as a whole succeeded: on a Cluster, a node that failed inside a
   * getMany or setMany whose other nodes answered (its keys read as misses). Exceptions it throws are ignored.
   */
  onError?: (error: CacheError) => void
  /** Clock for remaining lifetimes (PX), in epoch ms. @default the clock of the cache it is given to, else Date.now */
  now?: () => number
  /** The store's name in stats, events and Cache-Status. @default 'redis' */
  name?: string
}

/**
 * A Store on Redis over TCP (ioredis), single node or Cluster. Each entry is one string key holding core's
 * envelope (encodeEntry; a binary value as raw bytes after its JSON header, see `bytes`), expiring (PX) at the entry's last servable moment: the layout of upstashStore, so a
 * Worker and a server on the same database read each other's entries. `getMany` is one MGET on a single node, and
 * one pipeline per node on a Cluster (one MGET per hash slot), sent in parallel. A value that does not decode is
 * deleted and reads as a miss. Every call goes through a circuit breaker.
 *
 * @example
 * import Redis from 'ioredis'
 * const client = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
 * const coordinator = redisCoordinator({ client })
 * const cache = createCache({ tiers: [memoryStore(), redisStore({ client, coordinator })], coordinator })
 */
export function redisStore(options: RedisStoreOptions): Store {
  assertOptions(options, 'redisStore(options)')
  assertRedisClient(options.client, 'options.client')
  // An empty prefix is allowed: the keys are then core's full keys.
  optionalString(options.prefix, 'options.prefix', undefined, 128, { empty: true })
  optionalString(options.name, 'options.name', undefined, 64)
  optionalFunction(options.now, 'options.now')
  optionalFunction(options.onError, 'options.onError')
  const { coordinator, breaker } = options
  if (coordinator !== undefined && (typeof coordinator !== 'object' || coordinator === null || typeof coordinator.tagStamp !== 'function')) {
    throw new TypeError(`options.coordinator must be a Coordinator (redisCoordinator({ client })), got ${typeOf(coordinator)}`)
  }
  if (breaker !== undefined && breaker !== false && (typeof breaker !== 'object' || breaker === null)) {
    throw new TypeError(`options.breaker must be circuit breaker options or false, got ${typeOf(breaker)}`)
  }
  const ownMaxTtl = optionalDuration(options.maxTtl, 'options.maxTtl', undefined, { positive: true })
  const timeout = optionalDuration(options.timeout, 'options.timeout', undefined, { positive: true })
  const link = coordinator === undefined ? undefined : linkOf(coordinator)
  const store = new RedisStore(options, ownMaxTtl ?? link?.tagTtl, timeout, link)
  if (breaker === false) return store
  if (store.cluster !== undefined) {
    store.circuits = new NodeCircuits(store.name, breaker ?? {}, timeout)
    return store
  }
  return circuitBreaker(store, breaker ?? {})
}

class RedisStore implements Store {
  readonly name: string
  readonly maxTtl: number | undefined
  readonly timeout: number | undefined
  /** Redis strings hold up to 512 MB. */
  readonly maxValueBytes = 512 * 1024 * 1024
  readonly cluster: Cluster | undefined
  /** Set on a Cluster with a breaker. */
  circuits: NodeCircuits | undefined
  readonly #client: RedisClient
  readonly #prefix: string
  readonly #link: StoreLink | undefined
  readonly #onError: ((error: CacheError) => void) | undefined
  readonly #ownClock: boolean
  readonly #encode: (entry: Entry) => string | Buffer
  #now: () => number

  constructor(options: RedisStoreOptions, maxTtl: number | undefined, timeout: number | undefined, link: StoreLink | undefined) {
    this.name = options.name ?? 'redis'
    this.maxTtl = maxTtl
    this.timeout = timeout
    this.#client = options.client
    this.cluster = options.client.isCluster ? (options.client as Cluster) : undefined
    this.#prefix = options.prefix ?? 'tc:v:'
    this.#link = link?.channel === undefined ? undefined : link
    this.#onError = options.onError
    this.#ownClock = options.now !== undefined
    optionalBoolean(options.bytes, 'options.bytes')
    this.#encode = options.bytes === false ? encodeEntry : encodeBytes
    this.#now = options.now ?? Date.now
  }

  useClock(clock: () => number): void {
    if (!this.#ownClock) this.#now = clock
    this.circuits?.useClock(clock)
  }

  async get(key: string): Promise<Entry | undefined> {
    return (await this.#read([key], 1))[0]
  }

  getMany(keys: readonly string[]): Promise<(Entry | undefined)[]> {
    return this.#read(keys, 1)
  }

  /**
   * Reads keys; those another server wrote or deleted while the read was in flight (its bus message arrived
   * meanwhile) are read again, since the value read may be the old one and core would copy it into L1 after the
   * bus dropped it there. A read that starts after the message sees the write. Twice overtaken: a miss.
   */
  async #read(keys: readonly string[], attempt: number): Promise<(Entry | undefined)[]> {
    const link = this.#link
    const heard = link?.heard() ?? 0
    const found = await this.#fetch(keys)
    if (link === undefined || link.heard() === heard) return found
    const again: number[] = []
    for (let i = 0; i < keys.length; i++) if (link.evictedSince(keys[i] as string, heard)) again.push(i)
    if (again.length === 0) return found
    if (attempt >= 2) {
      for (const i of again) found[i] = undefined
      return found
    }
    const fresh = await this.#read(
      again.map((i) => keys[i] as string),
      attempt + 1,
    )
    again.forEach((i, n) => {
      found[i] = fresh[n]
    })
    return found
  }

  async #fetch(keys: readonly string[]): Promise<(Entry | undefined)[]> {
    if (keys.length === 0) return []
    if (keys.length === 1) {
      const full = this.#prefix + (keys[0] as string)
      return [this.#decoded(full, await this.#onNode(full, 'get', () => this.#client.getBuffer(full)))]
    }
    const full = keys.map((key) => this.#prefix + key)
    const cluster = this.cluster
    if (cluster === undefined) {
      const raws = await this.#client.mgetBuffer(...full)
      return full.map((key, i) => this.#decoded(key, raws[i]))
    }
    const out: (Entry | undefined)[] = new Array<Entry | undefined>(full.length).fill(undefined)
    const batches = batchByNode(cluster, full)
    const failures: { error: unknown; node: string; key: string }[] = []
    await Promise.all(
      batches.map(async (batch) => {
        const slots = [...batch.slots.values()]
        const first = (slots[0] as number[])[0] as number
        try {
          const results = await this.#onNode(full[first] as string, 'getMany', async () => {
            const pipeline = cluster.pipeline()
            for (const positions of slots) pipeline.mgetBuffer(...positions.map((i) => full[i] as string))
            const results = await pipeline.exec()
            // A command's error is the node's failure: inside the circuit, so that it counts towards opening it.
            checkAll(results)
            return results
          })
          slots.forEach((positions, n) => {
            const raws = pipelineResult(results, n) as unknown[]
            positions.forEach((i, j) => {
              out[i] = this.#decoded(full[i] as string, raws[j])
            })
          })
        } catch (error) {
          failures.push({ error, node: batch.node, key: keys[first] as string })
        }
      }),
    )
    // Nothing answered: the failure is the whole call's, and core reports it.
    if (failures.length > 0 && failures.length === batches.length) throw (failures[0] as { error: unknown }).error
    for (const { error, node, key } of failures) this.#report(error, 'getMany', node, key)
    return out
  }

  set(key: string, entry: Entry): Promise<void> {
    return this.setMany([[key, entry]])
  }

  async setMany(items: readonly (readonly [string, Entry])[]): Promise<void> {
    if (items.length === 0) return
    const time = this.#now()
    const full = items.map(([key]) => this.#prefix + key)
    const cluster = this.cluster
    const write = (pipeline: ChainableCommander, positions: readonly number[]): void => {
      for (const i of positions) {
        const entry = (items[i] as readonly [string, Entry])[1]
        const px = Math.ceil(lastServable(entry) - time)
        // Nothing servable is left: what was stored under the key is replaced by nothing (PX must be > 0).
        if (px <= 0) pipeline.del(full[i] as string)
        else pipeline.set(full[i] as string, this.#encode(entry), 'PX', px)
      }
      this.#announce(pipeline, positions.map((i) => (items[i] as readonly [string, Entry])[0]))
    }
    if (cluster === undefined) {
      const pipeline = this.#client.pipeline()
      write(pipeline, items.map((_, i) => i))
      checkAll(await pipeline.exec())
      return
    }
    await this.#perNode(cluster, full, 'setMany', (pipeline, positions) => write(pipeline, positions))
  }

  async delete(key: string): Promise<void> {
    const full = this.#prefix + key
    if (this.#link === undefined) {
      await this.#onNode(full, 'delete', () => this.#client.del(full))
      return
    }
    await this.#onNode(full, 'delete', async () => {
      const pipeline = this.#client.pipeline()
      pipeline.del(full)
      this.#announce(pipeline, [key])
      checkAll(await pipeline.exec())
    })
  }

  /** Adds the bus message for these keys to a pipeline, when linked to a coordinator with a bus. */
  #announce(pipeline: ChainableCommander, keys: readonly string[]): void {
    const link = this.#link
    if (link !== undefined) pipeline.publish(link.channel as string, link.keysMessage(keys))
  }

  /** Runs a one-key command through the circuit of the node serving it (Cluster), or directly. */
  #onNode<T>(full: string, operation: string, run: () => Promise<T>): Promise<T> {
    const { cluster, circuits } = this
    if (cluster === undefined || circuits === undefined) return run()
    return circuits.of(nodeOf(cluster, full)).run(operation, run)
  }

  /** One pipeline per node for the keys it serves, in parallel; a node that fails is reported unless all do. */
  async #perNode(cluster: Cluster, full: readonly string[], operation: string, fill: (pipeline: ChainableCommander, positions: number[]) => void): Promise<void> {
    const batches = batchByNode(cluster, full)
    const failures: unknown[] = []
    await Promise.all(
      batches.map(async (batch) => {
        const positions = [...batch.slots.values()].flat()
        try {
          await this.#onNode(full[positions[0] as number] as string, operation, async () => {
            const pipeline = cluster.pipeline()
            fill(pipeline, positions)
            checkAll(await pipeline.exec())
          })
        } catch (error) {
          failures.push(error)
        }
      }),
    )
    if (failures.length > 0) {
      throw new Error(`${failures.length} of ${batches.length} Cluster nodes failed ${operation}: ${describe(failures[0])}`, { cause: failures[0] })
    }
  }

  #decoded(full: string, raw: unknown): Entry | undefined {
    if (raw === null || raw === undefined) return undefined
    const entry = decodeEntry(raw)
    if (entry === undefined) {
      // Not an entry of this format: nobody can use it, and leaving it would make every read pay for it again.
      this.#client.del(full).catch(() => undefined)
      return undefined
    }
    // Redis expires the key on its own clock; an injected clock may already be past the entry.
    return lastServable(entry) > this.#now() ? entry : undefined
  }

  #report(error: unknown, operation: string, node: string, key: string): void {
    const onError = this.#onError
    if (onError === undefined) return
    try {
      onError(
        new CacheError('TIER_ERROR', `tier ${this.name}: Cluster node ${node} failed ${operation}; its keys read as misses: ${describe(error)}`, {
          tier: this.name,
          key,
          cause: error,
        }),
      )
    } catch {
      // the listener's failure is not the store's
    }
  }
}

/** The entry as bytes when its value is binary (no base64), as JSON text otherwise. */
function encodeBytes(entry: Entry): string | Buffer {
  const data = encodeEntryBytes(entry)
  return typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
}

/** Throws the first error a pipeline answered. */
function checkAll(results: [Error | null, unknown][] | null): void {
  if (results === null) throw new Error('the pipeline was discarded (connection lost)')
  for (const [error] of results) if (error !== null) throw error
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
