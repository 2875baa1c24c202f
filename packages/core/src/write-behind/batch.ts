import { parseDuration, typeOf } from '../duration.js'
import type { Persist, PersistResult, RetryOptions, WriteBehindEvent, WriteRecord } from './types.js'

/** What to do with one delivered record after a batch ran. */
export type Outcome<R> =
  | { record: R; action: 'ack' }
  | { record: R; action: 'retry'; notBefore: number; error: string }
  | { record: R; action: 'dead-letter'; error: string }

export interface BatchSettings<V> {
  persist: Persist<V>
  /** Failed persists after which a record is dead. */
  attempts: number
  /** Wait before retry number `attempt` (1-based). */
  backoff: (attempt: number) => number
  now: () => number
  emit: (event: WriteBehindEvent) => void
}

/**
 * Persists one delivered batch and decides each record's fate. Writes of one key collapse into the newest (the
 * older ones are done: the newest carries the latest value). Records that already failed once are persisted one
 * at a time, so a record the database rejects cannot hold back the rest of a batch more than once.
 */
export async function runBatch<V, R extends WriteRecord<V>>(records: readonly R[], settings: BatchSettings<V>): Promise<Outcome<R>[]> {
  const outcomes: Outcome<R>[] = []
  const newest = new Map<string, R>()
  for (const record of records) {
    const seen = newest.get(record.key)
    if (seen === undefined || record.version >= seen.version) newest.set(record.key, record)
  }
  for (const record of records) {
    const kept = newest.get(record.key) as R
    if (kept !== record) {
      outcomes.push({ record, action: 'ack' })
      settings.emit({ type: 'coalesced', key: record.key, version: record.version, newer: kept.version, at: settings.now() })
    }
  }
  const first: R[] = []
  const again: R[] = []
  for (const record of newest.values()) (record.attempts === 0 ? first : again).push(record)
  if (first.length > 0) await persistGroup(first, settings, outcomes)
  for (const record of again) await persistGroup([record], settings, outcomes)
  return outcomes
}

async function persistGroup<V, R extends WriteRecord<V>>(group: R[], settings: BatchSettings<V>, outcomes: Outcome<R>[]): Promise<void> {
  const started = settings.now()
  let result: void | PersistResult
  try {
    // Handed copies: a persist that changes what it is given cannot change what is retried.
    result = await settings.persist(group.map(plain))
  } catch (error) {
    for (const record of group) outcomes.push(failed(record, error, settings))
    return
  }
  const failures = new Map<string, unknown>()
  for (const failure of result?.failed ?? []) failures.set(failure.key, failure.error)
  const persisted: string[] = []
  for (const record of group) {
    if (failures.has(record.key)) outcomes.push(failed(record, failures.get(record.key), settings))
    else {
      outcomes.push({ record, action: 'ack' })
      persisted.push(record.key)
    }
  }
  if (persisted.length > 0) settings.emit({ type: 'persisted', keys: persisted, ms: settings.now() - started, at: settings.now() })
}

function failed<V, R extends WriteRecord<V>>(record: R, error: unknown, settings: BatchSettings<V>): Outcome<R> {
  const attempts = record.attempts + 1
  const message = error instanceof Error ? error.message : String(error)
  const at = settings.now()
  if (attempts >= settings.attempts) {
    settings.emit({ type: 'dead-letter', key: record.key, version: record.version, attempts, error: message, at })
    return { record: { ...record, attempts }, action: 'dead-letter', error: message }
  }
  const notBefore = at + settings.backoff(attempts)
  settings.emit({ type: 'retry', key: record.key, version: record.version, attempts, notBefore, error: message, at })
  return { record: { ...record, attempts }, action: 'retry', notBefore, error: message }
}

/** The record's own fields, without a queue's delivery id. */
export function plain<V>(record: WriteRecord<V>): WriteRecord<V> {
  const copy: WriteRecord<V> = { key: record.key, op: record.op, version: record.version, writtenAt: record.writtenAt, attempts: record.attempts }
  if (record.op === 'set') copy.value = record.value as V
  return copy
}

/** What persisting a batch needs, whoever delivers the batch (a flusher, a Cloudflare Queues consumer). */
export interface WriteBatchOptions<V> {
  /** Writes a batch to the database; make it idempotent by `version`. */
  persist: Persist<V>
  /** Retries of failed persists, then the dead letters. */
  retry?: RetryOptions
  /** Every persisted, coalesced, retried and dead record. Exceptions it throws are ignored. */
  onEvent?: ((event: WriteBehindEvent) => void) | undefined
  /** Clock in epoch ms. @default Date.now */
  now?: (() => number) | undefined
}

/** Validates the options once (errors name the option and the rule). */
export function batchSettings<V>(options: WriteBatchOptions<V>): BatchSettings<V> {
  const { persist } = options
  if (typeof persist !== 'function') throw new TypeError(`options.persist must be a function, got ${typeOf(persist)}`)
  const retry = options.retry ?? {}
  const attempts = retry.attempts ?? 8
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`options.retry.attempts must be a positive integer, got ${String(attempts)}`)
  const base = parseDuration(retry.backoff ?? 1_000, 'options.retry.backoff')
  const max = parseDuration(retry.maxBackoff ?? 300_000, 'options.retry.maxBackoff')
  if (max < base) throw new RangeError(`options.retry.maxBackoff (${max} ms) must not be shorter than options.retry.backoff (${base} ms)`)
  for (const name of ['onEvent', 'now'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`options.${name} must be a function, got ${typeOf(options[name])}`)
  }
  const listener = options.onEvent
  return {
    persist,
    attempts,
    backoff: (attempt) => Math.min(max, base * 2 ** (attempt - 1)),
    now: options.now ?? Date.now,
    emit(event) {
      try {
        listener?.(event)
      } catch {
        // a listener's bug must not stop the flusher
      }
    },
  }
}

/**
 * Persists a batch of delivered write records and says what to do with each: `ack` (persisted, or superseded by a
 * newer write of the same key in the batch), `retry` (with the time it may run again and its attempts counted) or
 * `dead-letter`. For queues that deliver batches themselves (Cloudflare Queues); createWriteBehind's flusher uses it
 * too.
 *
 * @example
 * const outcomes = await persistWriteBatch(records, { persist: (batch) => db.upsertMany(batch) })
 */
export function persistWriteBatch<V, R extends WriteRecord<V>>(records: readonly R[], options: WriteBatchOptions<V>): Promise<Outcome<R>[]> {
  return runBatch(records, batchSettings(options))
}
