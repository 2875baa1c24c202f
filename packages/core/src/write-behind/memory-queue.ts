import type { DeadLetter, QueuedWrite, WriteQueue, WriteRecord } from './types.js'

/**
 * A write queue in this process's memory: fast, and lost with the process. Writes acknowledged but not yet
 * persisted when the process crashes (or exits without `close()`) never reach the database. For development, tests,
 * and data that may be lost; use a durable queue (Redis Streams) otherwise.
 *
 * @example
 * const writes = createWriteBehind({ cache, queue: memoryWriteQueue(), persist: (batch) => db.upsertMany(batch) })
 */
export function memoryWriteQueue<V = unknown>(): WriteQueue<V> {
  return new MemoryWriteQueue<V>()
}

interface Waiting<V> {
  record: QueuedWrite<V>
  notBefore: number
}

class MemoryWriteQueue<V> implements WriteQueue<V> {
  readonly name = 'memory'
  readonly durable = false
  #ready: Waiting<V>[] = []
  #head = 0
  #delayed: Waiting<V>[] = []
  #leased = new Map<string, QueuedWrite<V>>()
  #dead: DeadLetter<V>[] = []
  #serial = 0

  async add(records: readonly WriteRecord<V>[]): Promise<void> {
    for (const record of records) this.#ready.push({ record: { ...record, id: String(++this.#serial) }, notBefore: 0 })
  }

  async take(max: number, now: number): Promise<QueuedWrite<V>[]> {
    if (this.#delayed.length > 0) {
      const due = this.#delayed.filter((r) => r.notBefore <= now)
      if (due.length > 0) {
        this.#delayed = this.#delayed.filter((r) => r.notBefore > now)
        this.#ready.push(...due)
      }
    }
    const end = Math.min(this.#ready.length, this.#head + max)
    const taken = this.#ready.slice(this.#head, end).map((w) => w.record)
    this.#head = end
    if (this.#head > 1024 && this.#head * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#head)
      this.#head = 0
    }
    for (const record of taken) this.#leased.set(record.id, record)
    return taken
  }

  async ack(records: readonly QueuedWrite<V>[]): Promise<void> {
    for (const record of records) this.#leased.delete(record.id)
  }

  async retry(record: QueuedWrite<V>, notBefore: number): Promise<void> {
    if (!this.#leased.delete(record.id)) return
    this.#delayed.push({ record: { ...record, id: String(++this.#serial) }, notBefore })
  }

  async deadLetter(record: QueuedWrite<V>, error: string, now: number): Promise<void> {
    if (!this.#leased.delete(record.id)) return
    const { id: _id, ...plain } = record
    this.#dead.push({ record: plain, error, at: now })
  }

  async deadLetters(): Promise<DeadLetter<V>[]> {
    return [...this.#dead]
  }

  async redrive(): Promise<number> {
    const dead = this.#dead
    this.#dead = []
    await this.add(dead.map((d) => ({ ...d.record, attempts: 0 })))
    return dead.length
  }

  async size(): Promise<number> {
    return this.#ready.length - this.#head + this.#delayed.length + this.#leased.size
  }
}
