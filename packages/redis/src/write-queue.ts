import type { DeadLetter, Duration, QueuedWrite, WriteQueue, WriteRecord } from '@tiercache/core'
import { assertOptions, optionalDuration, optionalString } from '@tiercache/core/kit'
import { assertRedisClient, type RedisClient } from './client.js'

export interface RedisWriteQueueOptions {
  /** An ioredis client (single node or Cluster; the queue's keys share one hash slot). */
  client: RedisClient
  /** Names this queue; its keys are `<prefix>{wb:<name>}:stream`, `:version`, `:delayed` and `:dead`. @default 'writes' */
  name?: string
  /** @default 'tc:' */
  prefix?: string
  /** The consumer group every flusher of this queue joins. @default 'flushers' */
  group?: string
  /** This flusher's name in the group. @default a random one per queue object */
  consumer?: string
  /**
   * A record a flusher took and has not settled after this long is handed to another flusher (the first one
   * probably died mid-batch). Longer than your slowest persist, or records are persisted twice (harmless when
   * persist is idempotent by version, only slower). @default '30s'
   */
  claimAfter?: Duration
}

/**
 * A durable write-behind queue on Redis Streams: an acknowledged write is in Redis, and a flusher that dies
 * mid-batch leaves its records pending in the consumer group, where another flusher claims them after
 * `claimAfter`. Delivery is at least once: make `persist` idempotent by `version`. Retries wait in a sorted set
 * until their time; records that failed for good go to a list (`deadLetters()`, `redrive()`).
 *
 * Versions come from Redis, not from the processes writing (`addVersioned`, which createWriteBehind uses): one
 * script takes Redis's clock in ms (TIME), raises it past the queue's previous version (`:version`) and appends the
 * record with it, so a later write of a key carries a larger version even when its writer's clock is seconds behind.
 *
 * @example
 * const queue = redisWriteQueue({ client, name: 'carts' })
 * const carts = createWriteBehind({ cache, queue, persist: (batch) => db.upsertCarts(batch) })
 */
export function redisWriteQueue<V = unknown>(options: RedisWriteQueueOptions): WriteQueue<V> {
  assertOptions(options, 'redisWriteQueue(options)')
  assertRedisClient(options.client, 'options.client')
  for (const name of ['name', 'group', 'consumer'] as const) optionalString(options[name], `options.${name}`, undefined, 128)
  // An empty prefix is allowed: the keys then start at the hash tag.
  optionalString(options.prefix, 'options.prefix', undefined, 128, { empty: true })
  const name = options.name ?? 'writes'
  if (/[{}]/.test(name) || /[{}]/.test(options.prefix ?? '')) throw new RangeError('options.name and options.prefix must not contain { or } (the queue uses a hash tag)')
  const claimAfter = optionalDuration(options.claimAfter, 'options.claimAfter', undefined, { positive: true }) ?? 30_000
  return new RedisWriteQueue<V>(options.client, `${options.prefix ?? 'tc:'}{wb:${name}}`, options.group ?? 'flushers', options.consumer ?? randomName(), claimAfter)
}

/** Moves the retries that are due into the stream, atomically: KEYS stream, delayed; ARGV now, max. */
const PROMOTE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call('XADD', KEYS[1], '*', 'r', string.sub(member, 1, string.find(member, '\\n', 1, true) - 1))
  redis.call('ZREM', KEYS[2], member)
end
return #due`

/**
 * Appends records with versions Redis assigns, atomically: KEYS stream, version; ARGV each record's JSON. Each
 * version is max(TIME in ms, previous version + 1); returns them in order.
 */
const ADD_VERSIONED = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
local versions = {}
for i = 1, #ARGV do
  if last + 1 > now then last = last + 1 else last = now end
  local text = string.format('%.0f', last)
  redis.call('XADD', KEYS[1], '*', 'r', ARGV[i], 'v', text)
  versions[i] = text
end
redis.call('SET', KEYS[2], string.format('%.0f', last))
return versions`

/** ioredis's name of ADD_VERSIONED on the client (EVALSHA, and EVAL when Redis does not know the script yet). */
const ADD_VERSIONED_COMMAND = 'tiercacheWriteQueueAdd'

/**
 * Moves every dead letter back into the stream, atomically: KEYS stream, dead. The letter goes in field d, as it was
 * stored (take() resets its attempts): cjson would turn [] into {} and keep 14 digits of a number. Field r, the
 * record re-encoded by cjson, is for readers of the queue that predate field d.
 */
const REDRIVE = `
local dead = redis.call('LRANGE', KEYS[2], 0, -1)
for _, letter in ipairs(dead) do
  local record = cjson.decode(letter)['record']
  record['attempts'] = 0
  redis.call('XADD', KEYS[1], '*', 'r', cjson.encode(record), 'd', letter)
end
redis.call('DEL', KEYS[2])
return #dead`

type StreamEntry = [id: string, fields: string[]]

class RedisWriteQueue<V> implements WriteQueue<V> {
  readonly name = 'redis-streams'
  readonly durable = true
  readonly #client: RedisClient
  readonly #stream: string
  readonly #version: string
  readonly #delayed: string
  readonly #dead: string
  readonly #group: string
  readonly #consumer: string
  readonly #claimAfter: number
  #ready: Promise<void> | undefined
  #serial = 0

  constructor(client: RedisClient, base: string, group: string, consumer: string, claimAfter: number) {
    this.#client = client
    this.#stream = `${base}:stream`
    this.#version = `${base}:version`
    this.#delayed = `${base}:delayed`
    this.#dead = `${base}:dead`
    this.#group = group
    this.#consumer = consumer
    this.#claimAfter = claimAfter
    if (typeof (client as unknown as Record<string, unknown>)[ADD_VERSIONED_COMMAND] !== 'function') {
      client.defineCommand(ADD_VERSIONED_COMMAND, { numberOfKeys: 2, lua: ADD_VERSIONED })
    }
  }

  async add(records: readonly WriteRecord<V>[]): Promise<void> {
    if (records.length === 0) return
    const pipeline = this.#client.pipeline()
    for (const record of records) pipeline.xadd(this.#stream, '*', 'r', JSON.stringify(record))
    await exec(pipeline)
  }

  async addVersioned(records: readonly WriteRecord<V>[]): Promise<number[]> {
    if (records.length === 0) return []
    const client = this.#client as unknown as Record<typeof ADD_VERSIONED_COMMAND, (...args: string[]) => Promise<string[]>>
    // record.version is ignored: the version Redis assigns is stored beside the record (field v) and wins on decode.
    const versions = await client[ADD_VERSIONED_COMMAND](this.#stream, this.#version, ...records.map((record) => JSON.stringify(record)))
    return versions.map(Number)
  }

  async take(max: number, now: number): Promise<QueuedWrite<V>[]> {
    await this.#ensureGroup()
    const client = this.#client
    await client.eval(PROMOTE, 2, this.#stream, this.#delayed, now, max)
    // First what a flusher that stopped answering left pending, then new entries.
    const claimed = (await client.xautoclaim(this.#stream, this.#group, this.#consumer, this.#claimAfter, '0-0', 'COUNT', max)) as [
      string,
      (StreamEntry | null)[],
      string[]?,
    ]
    const taken: QueuedWrite<V>[] = []
    const orphans: string[] = []
    for (const entry of claimed[1] ?? []) {
      if (entry === null) continue
      const record = this.#decode(entry)
      if (record === undefined) orphans.push(entry[0])
      else taken.push(record)
    }
    // Entries deleted while pending (settled by a flusher just before it died) come back as ids without data.
    orphans.push(...(claimed[2] ?? []))
    if (orphans.length > 0) await client.xack(this.#stream, this.#group, ...orphans)
    if (taken.length < max) {
      const read = (await client.xreadgroup('GROUP', this.#group, this.#consumer, 'COUNT', max - taken.length, 'STREAMS', this.#stream, '>')) as
        | [string, StreamEntry[]][]
        | null
      for (const entry of read?.[0]?.[1] ?? []) {
        const record = this.#decode(entry)
        if (record === undefined) await this.#settle(this.#client.multi(), entry[0])
        else taken.push(record)
      }
    }
    return taken
  }

  async ack(records: readonly QueuedWrite<V>[]): Promise<void> {
    if (records.length === 0) return
    const ids = records.map((r) => r.id)
    await exec(this.#client.multi().xack(this.#stream, this.#group, ...ids).xdel(this.#stream, ...ids))
  }

  async retry(record: QueuedWrite<V>, notBefore: number): Promise<void> {
    // A member of the sorted set must be unique: the record's JSON (which holds no raw newline), then a retry id.
    const member = `${JSON.stringify(plain(record))}\n${this.#consumer}.${++this.#serial}`
    await this.#settle(this.#client.multi().zadd(this.#delayed, notBefore, member), record.id)
  }

  async deadLetter(record: QueuedWrite<V>, error: string, now: number): Promise<void> {
    const letter: DeadLetter<V> = { record: plain(record), error, at: now }
    await this.#settle(this.#client.multi().rpush(this.#dead, JSON.stringify(letter)), record.id)
  }

  async deadLetters(): Promise<DeadLetter<V>[]> {
    const letters = await this.#client.lrange(this.#dead, 0, -1)
    return letters.map((letter) => JSON.parse(letter) as DeadLetter<V>)
  }

  async redrive(): Promise<number> {
    return Number(await this.#client.eval(REDRIVE, 2, this.#stream, this.#dead))
  }

  async size(): Promise<number> {
    const [length, delayed] = await Promise.all([this.#client.xlen(this.#stream), this.#client.zcard(this.#delayed)])
    return length + delayed
  }

  /** Ends a delivery in the same transaction as what `multi` already holds (its retry or dead letter). */
  async #settle(multi: ReturnType<RedisClient['multi']>, id: string): Promise<void> {
    await exec(multi.xack(this.#stream, this.#group, id).xdel(this.#stream, id))
  }

  /** Field r: the record; v: the version Redis assigned (addVersioned); d: a redriven dead letter (REDRIVE). */
  #decode([id, fields]: StreamEntry): QueuedWrite<V> | undefined {
    const field: Record<string, string> = {}
    for (let i = 0; i + 1 < fields.length; i += 2) field[fields[i] as string] = fields[i + 1] as string
    try {
      if (field.d !== undefined) return { ...(JSON.parse(field.d) as DeadLetter<V>).record, attempts: 0, id }
      if (field.r === undefined) return undefined
      const record: QueuedWrite<V> = { ...(JSON.parse(field.r) as WriteRecord<V>), id }
      // Retries and dead letters keep it inside the record (taken from v when first delivered).
      if (field.v !== undefined) record.version = Number(field.v)
      return record
    } catch {
      return undefined
    }
  }

  #ensureGroup(): Promise<void> {
    this.#ready ??= this.#client.xgroup('CREATE', this.#stream, this.#group, '0', 'MKSTREAM').then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof Error && error.message.includes('BUSYGROUP')) return
        this.#ready = undefined
        throw error
      },
    )
    return this.#ready
  }
}

function plain<V>(record: QueuedWrite<V>): WriteRecord<V> {
  const { id: _id, ...rest } = record
  return rest
}

async function exec(commands: { exec(): Promise<[Error | null, unknown][] | null> }): Promise<void> {
  const results = await commands.exec()
  if (results === null) throw new Error('the Redis transaction was discarded (connection lost)')
  for (const [error] of results) if (error !== null) throw error
}

function randomName(): string {
  return `flusher-${Math.random().toString(36).slice(2, 10)}${Date.now().toString(36)}`
}
