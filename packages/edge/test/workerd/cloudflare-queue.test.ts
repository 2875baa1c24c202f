// consumeWriteBatch's decision for each delivered message, on an injected clock, with doubles of the Queues message
// and producer (the real broker and D1 run in examples/edge-write-behind's test, under miniflare, where the backoff
// waits real seconds): the retry delay follows the doubling backoff of the record's failed persists (the delivery
// count), capped by maxBackoff and by the platform's 12 hours; a record failing for good goes to the dead letter
// queue, and stays in its own queue when that send fails; writes of one key in a batch collapse into the newest.
import type { DeadLetter, RetryOptions, WriteRecord } from '@tiercache/core'
import { describe, expect, it } from 'vitest'
import { cloudflareWriteQueue, consumeWriteBatch, type MessageBatchLike, type QueueMessageLike, type QueueProducerLike } from '../../src/index'

const NOW = 1_700_000_000_000

interface Delivery extends QueueMessageLike<WriteRecord<number>> {
  acked: number
  retried: ({ delaySeconds?: number } | undefined)[]
}

/** A message as the platform delivers it: `attempts` counts deliveries, this one included. */
function delivered(key: string, version: number, attempts = 1): Delivery {
  const message: Delivery = {
    id: `${key}@${version}`,
    body: { key, op: 'set', value: version, version, writtenAt: version, attempts: 0 },
    attempts,
    acked: 0,
    retried: [],
    ack: () => void message.acked++,
    retry: (options) => void message.retried.push(options),
  }
  return message
}

const batchOf = (...messages: Delivery[]): MessageBatchLike<WriteRecord<number>> => ({ queue: 'writes', messages })

/** A producer double: what was sent, or a failure on every send. */
function producer<Body>(fails = false): QueueProducerLike<Body> & { sent: Body[] } {
  const sent: Body[] = []
  return {
    sent,
    async send(body) {
      if (fails) throw new Error('queue unavailable')
      sent.push(body)
    },
    async sendBatch(messages) {
      if (fails) throw new Error('queue unavailable')
      for (const m of messages) sent.push(m.body)
    },
  }
}

const refuse = (): void => {
  throw new Error('refused')
}

describe('consumeWriteBatch', () => {
  it('acks what was persisted, and collapses writes of one key into the newest', async () => {
    const persisted: [string, number][] = []
    const [older, newer, other] = [delivered('a', 1), delivered('a', 2), delivered('b', 3)]
    const persist = (records: readonly WriteRecord<number>[]): void => void persisted.push(...records.map((r): [string, number] => [r.key, r.version]))
    await consumeWriteBatch(batchOf(older, newer, other), { persist, now: () => NOW })
    expect(persisted).toEqual([
      ['a', 2],
      ['b', 3],
    ])
    for (const m of [older, newer, other]) expect([m.acked, m.retried]).toEqual([1, []])
  })

  it('retries a failed record after the doubling backoff of its failed persists, capped by maxBackoff and 12 hours', async () => {
    const delays = async (retry: RetryOptions, deliveries: number[]) => {
      const messages = deliveries.map((attempts, i) => delivered(`k${i}`, i + 1, attempts))
      // Separate batches: a record that failed before is persisted on its own, as here.
      for (const m of messages) await consumeWriteBatch(batchOf(m), { persist: refuse, retry: { attempts: 100, ...retry }, now: () => NOW })
      return messages.map((m) => [m.acked, ...m.retried.map((r) => r?.delaySeconds)])
    }
    // Delivery n is the record's n-th failed persist: it waits backoff x 2^(n-1).
    expect(await delays({ backoff: '1s', maxBackoff: '10s' }, [1, 2, 3, 4, 5])).toEqual([
      [0, 1],
      [0, 2],
      [0, 4],
      [0, 8],
      [0, 10],
    ])
    // A delay the platform would refuse (over 12 hours) is cut to 12 hours.
    expect(await delays({ backoff: '1h', maxBackoff: '2d' }, [1, 5, 6])).toEqual([
      [0, 3_600],
      [0, 43_200],
      [0, 43_200],
    ])
  })

  it('sends a record that failed retry.attempts times to the dead letter queue, or keeps it when that send fails', async () => {
    const dlq = producer<DeadLetter<number>>()
    const dead = delivered('a', 1, 3)
    const retried = delivered('b', 2, 2)
    await consumeWriteBatch(batchOf(dead, retried), { persist: refuse, retry: { attempts: 3, backoff: '1s' }, deadLetter: dlq, now: () => NOW })
    expect(dlq.sent).toEqual([{ record: { key: 'a', op: 'set', value: 1, version: 1, writtenAt: 1, attempts: 3 }, error: 'refused', at: NOW }])
    expect([dead.acked, dead.retried]).toEqual([1, []])
    expect([retried.acked, retried.retried]).toEqual([0, [{ delaySeconds: 2 }]])

    // The dead letter queue refuses it: handed back to its own queue (redelivered), never acked and lost.
    const kept = delivered('a', 1, 3)
    await consumeWriteBatch(batchOf(kept), { persist: refuse, retry: { attempts: 3 }, deadLetter: producer(true), now: () => NOW })
    expect([kept.acked, kept.retried]).toEqual([0, [undefined]])

    // Without a dead letter queue: handed back for the platform's own (the consumer's max_retries).
    const platform = delivered('a', 1, 3)
    await consumeWriteBatch(batchOf(platform), { persist: refuse, retry: { attempts: 3 }, now: () => NOW })
    expect([platform.acked, platform.retried]).toEqual([0, [undefined]])
  })
})

describe('cloudflareWriteQueue', () => {
  it('sends records in batches of at most 100 (the platform limit), as JSON', async () => {
    const queue = producer<WriteRecord<number>>()
    const batches: number[] = []
    const sendBatch = queue.sendBatch.bind(queue)
    queue.sendBatch = async (messages) => {
      const list = [...messages]
      batches.push(list.length)
      expect(list.every((m) => m.contentType === 'json')).toBe(true)
      return sendBatch(list)
    }
    const records = Array.from({ length: 250 }, (_, i) => delivered(`k${i}`, i).body)
    await cloudflareWriteQueue(queue).add(records)
    expect(batches).toEqual([100, 100, 50])
    expect(queue.sent).toEqual(records)
    expect(() => cloudflareWriteQueue({} as never)).toThrow(TypeError)
  })
})
