import { describe, expect, it } from 'vitest'
import { createCache } from '../cache.js'
import { memoryStore } from '../stores/memory.js'
import { manualClock } from '../test-support/helpers.js'
import { memoryWriteQueue } from './memory-queue.js'
import type { PersistResult, WriteBehindEvent, WriteQueue, WriteRecord } from './types.js'
import { createWriteBehind, type Timers } from './write-behind.js'

/** Timers on a manual clock: advance() moves it and runs every timer that came due, letting promises settle. */
function manualTimers(clock = manualClock()) {
  let timers: { at: number; fn: () => void; id: number }[] = []
  let serial = 0
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 50; i++) await Promise.resolve()
  }
  const api: Timers = {
    setTimeout(fn, ms) {
      const timer = { at: clock.now() + ms, fn, id: ++serial }
      timers.push(timer)
      return timer.id
    },
    clearTimeout(id) {
      timers = timers.filter((t) => t.id !== id)
    },
  }
  return {
    clock,
    timers: api,
    settle,
    pending: () => timers.length,
    async advance(ms: number): Promise<void> {
      const end = clock.now() + ms
      for (;;) {
        await settle()
        const due = timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0]
        if (due === undefined) break
        timers = timers.filter((t) => t !== due)
        clock.set(Math.max(clock.now(), due.at))
        due.fn()
      }
      clock.set(end)
      await settle()
    },
  }
}

interface Db {
  rows: Map<string, { value: unknown; version: number }>
  calls: { at: number; batch: WriteRecord<unknown>[] }[]
}

function setup(options: { persist?: (batch: readonly WriteRecord<unknown>[], db: Db) => void | PersistResult; maxBatch?: number; queue?: WriteQueue } = {}) {
  const t = manualTimers()
  const db: Db = { rows: new Map(), calls: [] }
  const events: WriteBehindEvent[] = []
  const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1h' }, now: t.clock.now })
  const writes = createWriteBehind<unknown>({
    cache,
    queue: options.queue,
    persist(batch) {
      db.calls.push({ at: t.clock.now(), batch: batch.map((r) => ({ ...r })) })
      const result = options.persist?.(batch, db)
      for (const record of batch) {
        if (result?.failed?.some((f) => f.key === record.key)) continue
        const row = db.rows.get(record.key)
        if (row !== undefined && row.version >= record.version) continue
        if (record.op === 'delete') db.rows.delete(record.key)
        else db.rows.set(record.key, { value: record.value, version: record.version })
      }
      return result
    },
    flushInterval: '1s',
    maxBatch: options.maxBatch ?? 100,
    retry: { attempts: 3, backoff: '1s', maxBackoff: '10s' },
    onEvent: (e) => events.push(e),
    now: t.clock.now,
    timers: t.timers,
  })
  return { t, db, events, cache, writes }
}

describe('createWriteBehind', () => {
  it('answers once the cache and the queue hold the write, and persists it at the next flush', async () => {
    const { t, db, events, cache, writes } = setup()
    await writes.set('cart:1', { items: 2 })
    expect(await cache.get('cart:1')).toEqual({ items: 2 })
    expect(db.calls).toHaveLength(0)
    expect(await writes.size()).toBe(1)
    await t.advance(999)
    expect(db.calls).toHaveLength(0)
    await t.advance(1)
    expect(db.calls).toHaveLength(1)
    expect(db.rows.get('cart:1')?.value).toEqual({ items: 2 })
    expect(await writes.size()).toBe(0)
    expect(events.map((e) => e.type)).toEqual(['queued', 'persisted'])
    // The flusher keeps running.
    await writes.set('cart:2', 1)
    await t.advance(1_000)
    expect(db.rows.get('cart:2')?.value).toBe(1)
  })

  it('collapses several writes of one key into the newest', async () => {
    const { t, db, events, writes } = setup()
    for (const n of [1, 2, 3]) await writes.set('cart:1', n)
    await writes.set('cart:2', 'x')
    await t.advance(1_000)
    expect(db.calls).toHaveLength(1)
    expect(db.calls[0]?.batch.map((r) => [r.key, r.value])).toEqual([
      ['cart:1', 3],
      ['cart:2', 'x'],
    ])
    expect(events.filter((e) => e.type === 'coalesced')).toHaveLength(2)
    expect(await writes.size()).toBe(0)
  })

  it('gives every write of a process a larger version, even within one millisecond or when the clock steps back', async () => {
    const { t, db, writes } = setup()
    await writes.set('a', 1)
    await writes.set('b', 1)
    t.clock.advance(-60_000)
    await writes.set('c', 1)
    await writes.flush()
    const versions = db.calls[0]?.batch.map((r) => r.version) ?? []
    expect(versions).toHaveLength(3)
    expect(versions[1]).toBeGreaterThan(versions[0] as number)
    expect(versions[2]).toBeGreaterThan(versions[1] as number)
  })

  it('takes the version a shared queue assigns: a writer whose clock is 10 s behind still orders after (batch, retry)', async () => {
    // A queue several processes share, assigning versions itself (as redisWriteQueue does in Redis).
    let assigned = 1_700_000_000_000
    const given: number[] = []
    const queue = Object.assign(memoryWriteQueue(), {
      async addVersioned(records: readonly WriteRecord[]): Promise<number[]> {
        given.push(...records.map((r) => r.version))
        const versions = records.map(() => ++assigned)
        await queue.add(records.map((r, i) => ({ ...r, version: versions[i] as number })))
        return versions
      },
    })
    const rows = new Map<string, { value: unknown; version: number }>()
    const events: WriteBehindEvent[] = []
    let failOnce = 'r'
    const writer = (clock: { at: number }) =>
      createWriteBehind<unknown>({
        cache: createCache({ tiers: [memoryStore()], policy: { ttl: '1h' }, now: () => clock.at }),
        queue,
        flusher: false,
        retry: { attempts: 3, backoff: '1s' },
        now: () => clock.at,
        onEvent: (e) => events.push(e),
        persist(batch) {
          for (const r of batch) {
            if (r.key === failOnce) {
              failOnce = ''
              throw new Error('database busy')
            }
            const row = rows.get(r.key)
            if (row === undefined || row.version < r.version) rows.set(r.key, { value: r.value, version: r.version })
          }
        },
      })
    const clockA = { at: 1_800_000_000_000 }
    const clockB = { at: clockA.at - 10_000 }
    const a = writer(clockA)
    const b = writer(clockB)
    // One batch holds both writes of 'k': coalescing keeps the later one.
    await a.set('k', 'first')
    await b.set('k', 'later')
    await a.flush()
    expect(rows.get('k')?.value).toBe('later')
    // The record handed to the queue still carries the clock's version, for readers that predate addVersioned.
    expect(given).toEqual([clockA.at, clockB.at])
    expect(events.filter((e) => e.type === 'coalesced').map((e) => e.type === 'coalesced' && [e.version, e.newer])).toEqual([[assigned - 1, assigned]])
    // 'r': the first write fails and waits for its retry while the later one is persisted; the retry changes nothing.
    await a.set('r', 'first')
    await a.flush()
    await b.set('r', 'later')
    await b.flush()
    clockA.at += 1_000
    await a.flush()
    expect(rows.get('r')).toEqual({ value: 'later', version: assigned })
    expect(events.filter((e) => e.type === 'retry').map((e) => e.type === 'retry' && e.version)).toEqual([assigned - 1])
    expect(events.filter((e) => e.type === 'queued').map((e) => e.type === 'queued' && e.version)).toEqual([assigned - 3, assigned - 2, assigned - 1, assigned])
    expect(await a.size()).toBe(0)
  })

  it('starts a flush at once when maxBatch writes are waiting', async () => {
    const { t, db, writes } = setup({ maxBatch: 10 })
    for (let i = 0; i < 25; i++) await writes.set(`k${i}`, i)
    await t.settle()
    // Without the timer: batches of at most 10, started as writes piled up.
    expect(db.calls.every((c) => c.batch.length <= 10)).toBe(true)
    expect(db.rows.size).toBeGreaterThanOrEqual(20)
    await t.advance(1_000)
    expect(db.rows.size).toBe(25)
  })

  it('retries a failed batch with doubling backoff, then persists it', async () => {
    let failures = 2
    const { t, db, events, writes } = setup({
      persist() {
        if (failures-- > 0) throw new Error('db down')
      },
    })
    await writes.set('a', 1)
    await t.advance(1_000) // fails at t+1s: retry 1 s later
    await t.advance(1_000) // fails again at t+2s: retry 2 s later
    await t.advance(1_000)
    expect(db.rows.size).toBe(0)
    await t.advance(1_000)
    expect(db.rows.get('a')?.value).toBe(1)
    const start = db.calls[0]?.at as number
    expect(db.calls.map((c) => c.at - start)).toEqual([0, 1_000, 3_000])
    expect(events.filter((e) => e.type === 'retry').map((e) => (e.type === 'retry' ? [e.attempts, e.error] : []))).toEqual([
      [1, 'db down'],
      [2, 'db down'],
    ])
  })

  it('isolates a record the database keeps rejecting: the rest of its batch goes through, it ends in the dead letters', async () => {
    const { t, db, events, writes } = setup({
      persist(batch) {
        if (batch.some((r) => r.key === 'poison')) throw new Error('constraint violated')
      },
    })
    await writes.set('a', 1)
    await writes.set('poison', 2)
    await writes.set('b', 3)
    await t.advance(1_000) // the batch fails: every record retried alone
    await t.advance(1_000)
    expect([...db.rows.keys()].sort()).toEqual(['a', 'b'])
    await t.advance(10_000)
    const dead = await writes.deadLetters()
    expect(dead.map((d) => [d.record.key, d.record.attempts, d.error])).toEqual([['poison', 3, 'constraint violated']])
    expect(events.filter((e) => e.type === 'dead-letter')).toHaveLength(1)
    expect(await writes.size()).toBe(0)
    // Redriven (say, after fixing the data), it is persisted once the database accepts it.
    const calls = db.calls.length
    expect(await writes.redrive()).toBe(1)
    expect(await writes.deadLetters()).toEqual([])
    await t.advance(1_000)
    expect(db.calls.length).toBe(calls + 1)
  })

  it('retries only the keys a partial persist reports as failed', async () => {
    let fail = true
    const { t, db, writes } = setup({
      persist: () => (fail ? ((fail = false), { failed: [{ key: 'b', error: new Error('lock timeout') }] }) : undefined),
    })
    await writes.set('a', 1)
    await writes.set('b', 2)
    await t.advance(1_000)
    expect([...db.rows.keys()]).toEqual(['a'])
    await t.advance(1_000)
    expect(db.calls.map((c) => c.batch.map((r) => r.key))).toEqual([['a', 'b'], ['b']])
    expect(db.rows.get('b')?.value).toBe(2)
  })

  it('queues deletes and removes the key from the cache', async () => {
    const { t, db, cache, writes } = setup()
    await writes.set('a', 1)
    await t.advance(1_000)
    await writes.delete('a')
    expect(await cache.get('a')).toBeUndefined()
    await t.advance(1_000)
    expect(db.rows.has('a')).toBe(false)
    expect(db.calls[1]?.batch.map((r) => r.op)).toEqual(['delete'])
  })

  it('close() persists everything queued, retries included, and refuses later writes', async () => {
    let failures = 1
    const { t, db, writes } = setup({
      persist() {
        if (failures-- > 0) throw new Error('blip')
      },
    })
    await writes.set('a', 1)
    await writes.set('b', 2)
    const closed = writes.close()
    await t.advance(5_000)
    await closed
    expect(db.rows.size).toBe(2)
    expect(t.pending()).toBe(0)
    await expect(writes.set('c', 3)).rejects.toThrow(/closed/)
  })

  it('does not acknowledge a write the queue did not take, and leaves the cache untouched', async () => {
    const queue = memoryWriteQueue()
    queue.add = async () => {
      throw new Error('queue unavailable')
    }
    const { cache, writes } = setup({ queue })
    await expect(writes.set('a', 1)).rejects.toThrow('queue unavailable')
    expect(await cache.get('a')).toBeUndefined()
  })

  it('reports a failing queue (take, ack, retry, dead letter) as error events, and the flusher keeps going', async () => {
    const queue = memoryWriteQueue()
    const failing = new Set(['take', 'ack', 'retry', 'deadLetter'])
    const failOnce = <M extends 'take' | 'ack' | 'retry' | 'deadLetter'>(method: M): void => {
      const real = (queue[method] as (...args: unknown[]) => Promise<unknown>).bind(queue)
      ;(queue as unknown as Record<M, (...args: unknown[]) => Promise<unknown>>)[method] = async (...args) => {
        if (failing.delete(method)) throw new Error(`${method} failed`)
        return real(...args)
      }
    }
    for (const method of ['take', 'ack', 'retry', 'deadLetter'] as const) failOnce(method)
    const refused = new Set(['bad'])
    const { t, db, events, writes } = setup({
      queue,
      persist(batch) {
        if (batch.some((r) => refused.has(r.key))) throw new Error('refused')
      },
    })
    const errors = () => events.flatMap((e) => (e.type === 'error' ? [[e.stage, (e.error as Error).message]] : []))

    await writes.set('a', 1)
    await t.advance(1_000) // take fails: nothing persisted, the write stays queued
    expect(errors()).toEqual([['take', 'take failed']])
    expect(db.calls).toHaveLength(0)
    expect(await writes.size()).toBe(1)

    await t.advance(1_000) // the next flush takes and persists it; recording that in the queue (ack) fails
    expect(db.rows.get('a')?.value).toBe(1)
    expect(errors()).toEqual([
      ['take', 'take failed'],
      ['ack', 'ack failed'],
    ])

    await writes.set('bad', 1)
    await t.advance(1_000) // refused by the database; handing it back for a retry fails
    expect(events.some((e) => e.type === 'retry' && e.key === 'bad')).toBe(true)
    expect(errors().at(-1)).toEqual(['retry', 'retry failed'])

    // The flusher goes on: the next writes are persisted, and a record refused for good whose move to the dead
    // letters fails is reported too.
    await writes.set('b', 2)
    await writes.set('bad', 2)
    for (let i = 0; i < 30; i++) await t.advance(1_000)
    expect(db.rows.get('b')?.value).toBe(2)
    expect(events.some((e) => e.type === 'dead-letter' && e.key === 'bad')).toBe(true)
    expect(errors().map(([stage]) => stage)).toEqual(['take', 'ack', 'retry', 'dead-letter'])
  })

  it('rejects bad input before queueing it', async () => {
    const { writes } = setup()
    await expect(writes.set('', 1)).rejects.toThrow(/key/)
    await expect(writes.set('a', 1, { ttl: -5 })).rejects.toThrow(RangeError)
    await expect(writes.set('a', () => 1)).rejects.toThrow(TypeError)
    expect(await writes.size()).toBe(0)
    const cache = createCache({ tiers: [memoryStore()] })
    const persist = () => {}
    expect(() => createWriteBehind({ cache, persist, maxBatch: 0 })).toThrow(/options\.maxBatch must be a positive integer/)
    expect(() => createWriteBehind({ cache, persist, flushInterval: 0 })).toThrow(/options\.flushInterval must be greater than 0/)
    expect(() => createWriteBehind({ cache, persist, retry: { attempts: 0 } })).toThrow(/options\.retry\.attempts/)
    expect(() => createWriteBehind({ cache, persist, retry: { backoff: '1m', maxBackoff: '1s' } })).toThrow(/maxBackoff/)
    expect(() => createWriteBehind({ cache: {} as never, persist })).toThrow(/options\.cache/)
    expect(() => createWriteBehind({ cache, persist: 1 as never })).toThrow(/options\.persist must be a function/)
  })

  it('with flusher: false only queues; a flushing instance on the same queue persists', async () => {
    const t = manualTimers()
    const queue = memoryWriteQueue()
    const persisted: WriteRecord<unknown>[] = []
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' } })
    const producer = createWriteBehind({ cache, queue, persist: () => {}, flusher: false, timers: t.timers, now: t.clock.now })
    await producer.set('from-producer', 1)
    await t.advance(5_000)
    expect(t.pending()).toBe(0)
    expect(await queue.size()).toBe(1)
    const flusher = createWriteBehind({ cache, queue, persist: (batch) => void persisted.push(...batch), timers: t.timers, now: t.clock.now })
    await t.advance(1_000)
    expect(persisted.map((r) => r.key)).toEqual(['from-producer'])
    await flusher.close()
    expect(t.pending()).toBe(0)
  })

  it('given a sink (a queue consumed elsewhere), only queues: no flusher, no persist needed', async () => {
    const t = manualTimers()
    const sent: WriteRecord<unknown>[] = []
    const sink = { name: 'elsewhere', durable: true, add: async (records: readonly WriteRecord<unknown>[]) => void sent.push(...records) }
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' } })
    const writes = createWriteBehind({ cache, queue: sink, timers: t.timers, now: t.clock.now })
    await writes.set('a', 1)
    expect(sent.map((r) => [r.key, r.value])).toEqual([['a', 1]])
    expect(await cache.get('a')).toBe(1)
    expect(t.pending()).toBe(0)
    await expect(writes.size()).rejects.toThrow(/consumed elsewhere/)
    await writes.close()
    expect(() => createWriteBehind({ cache })).toThrow(/options\.persist must be a function/)
    expect(() => createWriteBehind({ cache, queue: {} as never })).toThrow(/options\.queue/)
  })
})
