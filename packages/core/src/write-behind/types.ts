import type { Duration } from '../duration.js'

/** One write on its way to the database. */
export interface WriteRecord<V = unknown> {
  /** The cache key, as the app wrote it (without the namespace). */
  key: string
  /** 'set' carries a value; 'delete' asks the database to remove the key. */
  op: 'set' | 'delete'
  /** The value written (absent for a delete). */
  value?: V
  /**
   * Orders the writes of one key: later writes carry larger versions. An integer that reads as rough epoch ms (a
   * BIGINT column holds it): assigned by the queue where it can (`WriteSink.addVersioned`: Redis Streams takes
   * Redis's clock, raised past the queue's previous version, so the order does not depend on the clocks of the
   * processes writing), else the writer's clock raised past the writer's previous version (`nextStamp`). A persist
   * keyed by it (`UPDATE ... WHERE version < $version`) applies each write once in effect however often it is
   * delivered, and never lets an older write overwrite a newer one. Retries, dead letters and redrives keep it.
   */
  version: number
  /** Epoch ms when the write was acknowledged. */
  writtenAt: number
  /** Failed persists so far. */
  attempts: number
}

/** A record as a queue hands it out: with the queue's id, leased to one flusher until acked, retried or dead. */
export interface QueuedWrite<V = unknown> extends WriteRecord<V> {
  /** The queue's id of this delivery. */
  readonly id: string
}

/** A record that failed `retry.attempts` times, with the last error. */
export interface DeadLetter<V = unknown> {
  record: WriteRecord<V>
  error: string
  at: number
}

/**
 * A queue this process only writes to: another consumer (a Cloudflare Queues handler, say) persists what it holds.
 * A write-behind given one runs no flusher.
 */
export interface WriteSink<V = unknown> {
  readonly name: string
  /** True when an acknowledged write survives the crash of the process that took it. */
  readonly durable: boolean
  /** Holds the records as given (versions included); resolves once they are safe by this queue's standard. */
  add(records: readonly WriteRecord<V>[]): Promise<void>
  /**
   * Optional, for a queue that several processes write to and that can order their writes itself: holds the records
   * like `add`, but gives each a new version taken atomically with the append (`record.version`, the writer's clock
   * version, is not used, except by readers that predate this method), and resolves to those versions in the order
   * of `records`. A version it assigns is greater than every version it
   * assigned before, whatever the clocks of the writers, and reads as rough epoch ms like a clock-rule version, so
   * one database column compares both. `createWriteBehind` uses it when present, and the writer's clock otherwise.
   */
  addVersioned?(records: readonly WriteRecord<V>[]): Promise<number[]>
}

/**
 * Where acknowledged writes wait for the flusher. In-memory (`memoryWriteQueue`) for development; Redis Streams
 * (`@tiercache/redis`) where writes must survive a crash.
 */
export interface WriteQueue<V = unknown> extends WriteSink<V> {
  /**
   * Up to `max` records ready at `now`, leased to this flusher: no other flusher gets them unless this one stops
   * answering (durable queues hand a dead flusher's records to another).
   */
  take(max: number, now: number): Promise<QueuedWrite<V>[]>
  /** Done with these deliveries (persisted, or superseded by a newer write of the same key). */
  ack(records: readonly QueuedWrite<V>[]): Promise<void>
  /** Ends this delivery and queues the record again (attempts counted by the caller), ready at `notBefore`. */
  retry(record: QueuedWrite<V>, notBefore: number): Promise<void>
  /** Ends this delivery and keeps the record aside with its error. */
  deadLetter(record: QueuedWrite<V>, error: string, now: number): Promise<void>
  /** The records set aside, oldest first. */
  deadLetters(): Promise<DeadLetter<V>[]>
  /** Moves every dead letter back into the queue with its attempts reset; resolves to how many. */
  redrive(now: number): Promise<number>
  /** Records waiting, leased or retrying (dead letters excluded). */
  size(): Promise<number>
}

/** What `persist` may report about a batch it partly wrote; throwing means none of it was written. */
export interface PersistResult {
  /** Keys whose write failed, with why; the others count as persisted. */
  failed?: readonly { key: string; error: unknown }[]
}

/** Writes a batch to the database: at most one record per key (the newest), each applied only if newer. */
export type Persist<V> = (batch: readonly WriteRecord<V>[]) => void | PersistResult | Promise<void | PersistResult>

/** Everything the write-behind does, one event each. */
export type WriteBehindEvent =
  | { type: 'queued'; key: string; version: number; at: number }
  | { type: 'persisted'; keys: string[]; ms: number; at: number }
  | { type: 'coalesced'; key: string; version: number; newer: number; at: number }
  | { type: 'retry'; key: string; version: number; attempts: number; notBefore: number; error: string; at: number }
  | { type: 'dead-letter'; key: string; version: number; attempts: number; error: string; at: number }
  | { type: 'error'; stage: 'take' | 'ack' | 'retry' | 'dead-letter'; error: unknown; at: number }

/** Retries of a failed persist. */
export interface RetryOptions {
  /** Failed persists after which a record goes to the dead letters. @default 8 */
  attempts?: number
  /** Wait before the first retry; doubled for each further one. @default '1s' */
  backoff?: Duration
  /** Longest wait between retries. @default '5m' */
  maxBackoff?: Duration
}
