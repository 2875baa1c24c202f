import { persistWriteBatch, type DeadLetter, type WriteBatchOptions, type WriteRecord, type WriteSink } from '@tiercache/core'

/** The part of a Queue producer binding (workers-types `Queue<Body>`) this module uses. */
export interface QueueProducerLike<Body> {
  send(body: Body, options?: { contentType?: 'json' }): Promise<unknown>
  sendBatch(messages: Iterable<{ body: Body; contentType?: 'json' }>): Promise<unknown>
}

/** The part of a delivered message (workers-types `Message<Body>`) this module uses. */
export interface QueueMessageLike<Body> {
  readonly id: string
  readonly body: Body
  /** Deliveries so far, this one included (from 1). */
  readonly attempts: number
  ack(): void
  retry(options?: { delaySeconds?: number }): void
}

/** The part of a consumer's batch (workers-types `MessageBatch<Body>`) this module uses. */
export interface MessageBatchLike<Body> {
  readonly queue: string
  readonly messages: readonly QueueMessageLike<Body>[]
}

/** Messages per `sendBatch` call (the platform's limit). */
const SEND_BATCH_MAX = 100
/** Longest delay `message.retry()` accepts: 12 hours. */
const MAX_DELAY_SECONDS = 43_200

/**
 * The producer side of write-behind on Cloudflare Queues: `createWriteBehind({ cache, queue: cloudflareWriteQueue(
 * env.WRITES) })` acknowledges a write once the cache holds it and the queue accepted it (durable from then on). The
 * Worker's `queue()` handler persists with `consumeWriteBatch`. Cloudflare Queues cannot assign versions: a record's
 * version is the writing isolate's clock, raised past its previous version, so two isolates' writes of one key
 * closer together than their clocks' skew may persist in either order (README: "Versions come from the isolates'
 * clocks").
 *
 * @example
 * const carts = createWriteBehind({ cache, queue: cloudflareWriteQueue(env.CART_WRITES) })
 * await carts.set(`cart:${id}`, cart)
 */
export function cloudflareWriteQueue<V>(queue: QueueProducerLike<WriteRecord<V>>): WriteSink<V> {
  if (typeof queue !== 'object' || queue === null || typeof queue.sendBatch !== 'function') {
    throw new TypeError('cloudflareWriteQueue(queue) needs a Queue producer binding (env.<BINDING> from wrangler "queues.producers")')
  }
  return {
    name: 'cloudflare-queues',
    durable: true,
    async add(records) {
      for (let i = 0; i < records.length; i += SEND_BATCH_MAX) {
        await queue.sendBatch(records.slice(i, i + SEND_BATCH_MAX).map((body) => ({ body, contentType: 'json' as const })))
      }
    },
  }
}

export interface ConsumeWriteBatchOptions<V> extends WriteBatchOptions<V> {
  /**
   * Where records go after `retry.attempts` failed persists, as `{ record, error, at }`. Without it they are handed
   * back with `message.retry()`, for the platform's own dead letter queue (set the consumer's `max_retries` to
   * `retry.attempts`).
   */
  deadLetter?: QueueProducerLike<DeadLetter<V>>
}

/**
 * The consumer side of write-behind on Cloudflare Queues, for the Worker's `queue()` handler: persists the batch
 * (writes of one key collapse into the newest), acks what was persisted, retries failures with doubling backoff
 * through `message.retry({ delaySeconds })`, and sends records that keep failing to `deadLetter`. Delivery is at
 * least once: make `persist` idempotent by `version`.
 *
 * @example
 * export default {
 *   async queue(batch: MessageBatch<WriteRecord<Cart>>, env: Env) {
 *     await consumeWriteBatch(batch, { persist: (records) => upsertCarts(env.DB, records), deadLetter: env.CART_DLQ })
 *   },
 * }
 */
export async function consumeWriteBatch<V>(batch: MessageBatchLike<WriteRecord<V>>, options: ConsumeWriteBatchOptions<V>): Promise<void> {
  const { deadLetter, ...batchOptions } = options
  const now = options.now ?? Date.now
  // The platform counts deliveries from 1; a record counts failed persists.
  const records = batch.messages.map((message) => ({ ...message.body, attempts: Math.max(message.body.attempts ?? 0, message.attempts - 1), message }))
  const outcomes = await persistWriteBatch(records, batchOptions)
  for (const outcome of outcomes) {
    const { message, ...record } = outcome.record
    if (outcome.action === 'ack') message.ack()
    else if (outcome.action === 'retry') {
      const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((outcome.notBefore - now()) / 1_000)))
      message.retry({ delaySeconds })
    } else if (deadLetter !== undefined) {
      try {
        await deadLetter.send({ record, error: outcome.error, at: now() }, { contentType: 'json' })
        message.ack()
      } catch {
        // Not set aside: keep it in this queue rather than lose it.
        message.retry()
      }
    } else {
      message.retry()
    }
  }
}
