import type { Cache } from '../cache.js'
import { nextStamp } from '../coordinator.js'
import { parseDuration, typeOf, type Duration } from '../duration.js'
import type { Policy } from '../policy.js'
import { assertKey, assertSerializable, MAX_KEY_LENGTH } from '../validate.js'
import { batchSettings, runBatch, type BatchSettings, type WriteBatchOptions } from './batch.js'
import { memoryWriteQueue } from './memory-queue.js'
import type { DeadLetter, Persist, RetryOptions, WriteBehindEvent, WriteQueue, WriteRecord, WriteSink } from './types.js'

/** The timer functions the flusher uses; inject fake ones to drive it from a test clock. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

declare const setTimeout: (callback: () => void, ms: number) => { unref?(): void }
declare const clearTimeout: (handle: unknown) => void

export interface WriteBehindOptions<V> {
  /** The cache every write lands in at once. */
  cache: Cache
  /** Writes a batch to the database; see `Persist`. Make it idempotent by `version`. Not needed without a flusher. */
  persist?: Persist<V>
  /**
   * Where acknowledged writes wait. A `WriteSink` (a queue consumed elsewhere, e.g. `cloudflareWriteQueue`) means no
   * flusher here. @default memoryWriteQueue() (lost if the process dies: see its docs)
   */
  queue?: WriteQueue<V> | WriteSink<V>
  /** How often the flusher persists what is waiting. @default '1s' */
  flushInterval?: Duration
  /** Most records per persist call; this many waiting also starts a flush at once. @default 100 */
  maxBatch?: number
  /** Retries of failed persists, then the dead letters. */
  retry?: RetryOptions
  /** Policy of the cache writes. @default the cache's */
  policy?: Partial<Policy>
  /** Runs the background flusher here. false: this process only queues (another one flushes). @default true */
  flusher?: boolean
  /** Every queued, persisted, coalesced, retried and dead record, and queue errors. Exceptions it throws are ignored. */
  onEvent?: (event: WriteBehindEvent) => void
  /** Clock in epoch ms (writtenAt, backoff, and versions unless the queue assigns them). @default Date.now */
  now?: () => number
  /** @default the host's setTimeout / clearTimeout */
  timers?: Timers
}

/** Writes acknowledged once the cache and the queue hold them, persisted in the background. */
export interface WriteBehind<V> {
  /** Writes the value to the cache and queues it for the database; resolves once both hold it. */
  set(key: string, value: V, policy?: Partial<Policy>): Promise<void>
  /** Removes the key from the cache and queues its removal from the database. */
  delete(key: string): Promise<void>
  /** Persists every record ready now (retries waiting for their backoff stay queued). */
  flush(): Promise<void>
  /**
   * Stops the flusher. With a queue that is not durable, first persists everything queued, retries included (a
   * record failing until its dead letter ends there); a durable queue keeps what is left for the next flusher.
   */
  close(): Promise<void>
  /** Records waiting, in flight or retrying (rejects for a queue consumed elsewhere). */
  size(): Promise<number>
  /** The records that failed for good (rejects for a queue consumed elsewhere). */
  deadLetters(): Promise<DeadLetter<V>[]>
  /** Queues every dead letter again with its attempts reset; resolves to how many. */
  redrive(): Promise<number>
}

/**
 * Write-behind: `set` answers once the cache and the queue hold the write; a background flusher persists the
 * queue in batches (writes of one key collapse into the newest), retries failures with doubling backoff and moves
 * a record that keeps failing to the dead letters. Every outcome is an event.
 *
 * @example
 * const writes = createWriteBehind({
 *   cache,
 *   persist: (batch) => db.upsertMany(batch), // UPDATE ... WHERE version < $version: idempotent
 *   flushInterval: '500ms',
 *   maxBatch: 200,
 * })
 * await writes.set('cart:42', cart) // in the cache now, in the database within about 500 ms
 */
export function createWriteBehind<V>(options: WriteBehindOptions<V>): WriteBehind<V> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`createWriteBehind(options) must be an object, got ${typeOf(options)}`)
  const { cache } = options
  if (typeof cache !== 'object' || cache === null || typeof cache.set !== 'function') {
    throw new TypeError(`options.cache must be a cache from createCache(), got ${typeOf(cache)}`)
  }
  const queue = options.queue ?? memoryWriteQueue<V>()
  if (typeof queue !== 'object' || queue === null || typeof queue.add !== 'function') {
    throw new TypeError(`options.queue must be a write queue (add, take, ack, ...) or sink (add), got ${typeOf(queue)}`)
  }
  const pull = isPull(queue)
  const flusher = pull && options.flusher !== false
  // Without a flusher nothing here persists: a missing persist only matters when one runs.
  const settings = batchSettings({ ...options, persist: options.persist ?? (flusher ? options.persist : noPersist) } as WriteBatchOptions<V>)
  const maxBatch = options.maxBatch ?? 100
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`options.maxBatch must be a positive integer, got ${String(maxBatch)}`)
  const flushInterval = parseDuration(options.flushInterval ?? 1_000, 'options.flushInterval')
  if (flushInterval === 0) throw new RangeError('options.flushInterval must be greater than 0')
  return new WriteBehindRunner(cache, queue, settings, {
    maxBatch,
    flushInterval,
    policy: options.policy,
    flusher,
    timers: options.timers ?? { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (handle) => clearTimeout(handle) },
  })
}

function isPull<V>(queue: WriteQueue<V> | WriteSink<V>): queue is WriteQueue<V> {
  return typeof (queue as Partial<WriteQueue<V>>).take === 'function'
}

function noPersist(): never {
  throw new Error('this write-behind has no persist')
}

interface RunnerOptions {
  maxBatch: number
  flushInterval: number
  policy: Partial<Policy> | undefined
  flusher: boolean
  timers: Timers
}

class WriteBehindRunner<V> implements WriteBehind<V> {
  readonly #cache: Cache
  readonly #queue: WriteQueue<V> | WriteSink<V>
  readonly #settings: BatchSettings<V>
  readonly #options: RunnerOptions
  #lastVersion = 0
  #sinceFlush = 0
  #running: Promise<void> | undefined
  #timer: unknown
  #closed = false

  constructor(cache: Cache, queue: WriteQueue<V> | WriteSink<V>, settings: BatchSettings<V>, options: RunnerOptions) {
    this.#cache = cache
    this.#queue = queue
    this.#settings = settings
    this.#options = options
    if (options.flusher) this.#schedule()
  }

  async set(key: string, value: V, policy?: Partial<Policy>): Promise<void> {
    // Bad input fails here, before the queue holds a write the cache would refuse.
    this.#cache.resolvePolicy(policy ?? this.#options.policy)
    if (value !== null && value !== undefined) assertSerializable(value, 'value')
    const record = this.#record(key, 'set')
    record.value = value
    await this.#enqueue(record)
    await this.#cache.set(key, value, policy ?? this.#options.policy)
  }

  async delete(key: string): Promise<void> {
    await this.#enqueue(this.#record(key, 'delete'))
    await this.#cache.delete(key)
  }

  async flush(): Promise<void> {
    // A cycle already running may have taken its batch before the caller's writes: wait for it, then run one more.
    while (this.#running !== undefined) await this.#running
    await this.#start()
  }

  async close(): Promise<void> {
    this.#closed = true
    this.#options.timers.clearTimeout(this.#timer)
    this.#timer = undefined
    await this.flush()
    const queue = this.#queue
    if (queue.durable || !isPull(queue)) return
    // Retries wait for their backoff: keep flushing until nothing is left.
    while ((await queue.size()) > 0) {
      await new Promise<void>((resolve) => this.#options.timers.setTimeout(resolve, this.#options.flushInterval))
      await this.flush()
    }
  }

  async size(): Promise<number> {
    return this.#pull('size').size()
  }

  async deadLetters(): Promise<DeadLetter<V>[]> {
    return this.#pull('deadLetters').deadLetters()
  }

  async redrive(): Promise<number> {
    return this.#pull('redrive').redrive(this.#settings.now())
  }

  #pull(method: string): WriteQueue<V> {
    const queue = this.#queue
    if (!isPull(queue)) throw new Error(`${method}(): the queue '${queue.name}' is consumed elsewhere; ask its consumer`)
    return queue
  }

  #record(key: string, op: 'set' | 'delete'): WriteRecord<V> {
    if (this.#closed) throw new Error('this write-behind is closed')
    assertKey(key, 'key', MAX_KEY_LENGTH)
    return { key, op, version: 0, writtenAt: this.#settings.now(), attempts: 0 }
  }

  async #enqueue(record: WriteRecord<V>): Promise<void> {
    const queue = this.#queue
    // Versions only grow in this process, even if its clock steps back or two writes share a millisecond.
    record.version = this.#lastVersion = nextStamp(this.#lastVersion, record.writtenAt)
    // A queue shared by several processes orders their writes itself (their clocks may disagree by seconds); the
    // clock's version still travels in the record, for readers of the queue that predate addVersioned.
    if (queue.addVersioned === undefined) await queue.add([record])
    else record.version = (await queue.addVersioned([record]))[0] as number
    this.#settings.emit({ type: 'queued', key: record.key, version: record.version, at: record.writtenAt })
    if (this.#options.flusher && ++this.#sinceFlush >= this.#options.maxBatch && this.#running === undefined) void this.#start()
  }

  #start(): Promise<void> {
    this.#sinceFlush = 0
    const running = this.#cycle().finally(() => {
      if (this.#running === running) this.#running = undefined
    })
    this.#running = running
    return running
  }

  #schedule(): void {
    if (this.#closed) return
    const handle = this.#options.timers.setTimeout(() => {
      this.#timer = undefined
      const next = (): void => this.#schedule()
      ;(this.#running ?? this.#start()).then(next, next)
    }, this.#options.flushInterval)
    // Node: the flusher alone does not keep the process alive (close() before exit persists what is queued).
    ;(handle as { unref?(): void } | undefined)?.unref?.()
    this.#timer = handle
  }

  /** Takes and persists batches until fewer than a full batch are ready. Never rejects: failures are events. */
  async #cycle(): Promise<void> {
    const { now, emit } = this.#settings
    const queue = this.#queue
    if (!isPull(queue)) return
    for (;;) {
      let batch
      try {
        batch = await queue.take(this.#options.maxBatch, now())
      } catch (error) {
        emit({ type: 'error', stage: 'take', error, at: now() })
        return
      }
      if (batch.length === 0) return
      const outcomes = await runBatch(batch, this.#settings)
      const done = outcomes.filter((o) => o.action === 'ack').map((o) => o.record)
      try {
        if (done.length > 0) await queue.ack(done)
      } catch (error) {
        emit({ type: 'error', stage: 'ack', error, at: now() })
      }
      for (const outcome of outcomes) {
        if (outcome.action === 'ack') continue
        const stage = outcome.action
        try {
          if (outcome.action === 'retry') await queue.retry(outcome.record, outcome.notBefore)
          else await queue.deadLetter(outcome.record, outcome.error, now())
        } catch (error) {
          emit({ type: 'error', stage, error, at: now() })
        }
      }
      if (batch.length < this.#options.maxBatch) return
    }
  }
}
