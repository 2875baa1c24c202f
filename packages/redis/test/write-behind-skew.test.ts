// Two app servers whose clocks disagree by 10 s write one key into one Redis Streams queue: the database must end
// with the later write, whichever way the batches, retries and the idempotent persist meet it. Versions come from
// Redis, so the writers' clocks (injected here) order nothing.
import { createCache, createWriteBehind, memoryStore, type WriteBehindEvent, type WriteRecord } from '@tiercache/core'
import { describe, expect, it } from 'vitest'
import { redisWriteQueue } from '../src/index.js'
import { redisClients } from './fixtures/redis-clients.js'

const prefix = `wbskew${process.pid}:`
const redis = redisClients(prefix)

/** The database: a row per key applied only when newer (`UPDATE ... WHERE version < $version`), every apply counted. */
function database() {
  const rows = new Map<string, { value: unknown; version: number }>()
  const applied: string[] = []
  let failNext: string | undefined
  return {
    rows,
    applied,
    failOnce(key: string) {
      failNext = key
    },
    persist(batch: readonly WriteRecord<unknown>[]): void {
      if (batch.some((r) => r.key === failNext)) {
        failNext = undefined
        throw new Error('database busy')
      }
      for (const record of batch) {
        const row = rows.get(record.key)
        if (row !== undefined && row.version >= record.version) continue
        rows.set(record.key, { value: record.value, version: record.version })
        applied.push(`${record.key}@${record.version}`)
      }
    },
  }
}

describe('write-behind on one Redis Streams queue, writers with skewed clocks', () => {
  it('persists the later write of a key although its writer is 10 s behind: in one batch, across batches, after a retry', async () => {
    const db = database()
    const events: WriteBehindEvent[] = []
    const server = (clock: { at: number }) => {
      const client = redis()
      return createWriteBehind<string>({
        cache: createCache({ tiers: [memoryStore()], policy: { ttl: '1m' }, now: () => clock.at }),
        queue: redisWriteQueue({ client, prefix, name: 'carts' }),
        persist: (batch) => db.persist(batch),
        flusher: false, // flushed by hand below, each with its own clock
        retry: { attempts: 3, backoff: '1s' },
        now: () => clock.at,
        onEvent: (event) => events.push(event),
      })
    }
    const clockA = { at: Date.now() }
    const clockB = { at: clockA.at - 10_000 } // the later writer
    const a = server(clockA)
    const b = server(clockB)
    const queued = (key: string): number[] => events.flatMap((e) => (e.type === 'queued' && e.key === key ? [e.version] : []))

    // One batch holds both writes: coalescing keeps the later.
    await a.set('cart:1', 'first')
    await b.set('cart:1', 'later')
    await a.flush()
    // Two batches: the later write reaches a database that already holds the first.
    await a.set('cart:2', 'first')
    await a.flush()
    await b.set('cart:2', 'later')
    await b.flush()
    // The first write fails and waits for its retry; the later one is persisted meanwhile; the retry changes nothing.
    db.failOnce('cart:3')
    await a.set('cart:3', 'first')
    await a.flush()
    await b.set('cart:3', 'later')
    await b.flush() // B's clock: A's retry is not due yet
    clockA.at += 1_000
    await a.flush()

    expect([...db.rows].map(([key, row]) => [key, row.value])).toEqual([
      ['cart:1', 'later'],
      ['cart:2', 'later'],
      ['cart:3', 'later'],
    ])
    for (const key of ['cart:1', 'cart:2', 'cart:3']) {
      const [first, later] = queued(key) as [number, number]
      expect(later).toBeGreaterThan(first)
      expect(db.rows.get(key)).toEqual({ value: 'later', version: later })
    }
    // Applied: cart:1 once (coalesced), cart:2 twice (first, then later), cart:3 once (its retry was older).
    expect(db.applied).toEqual([`cart:1@${queued('cart:1')[1]}`, `cart:2@${queued('cart:2')[0]}`, `cart:2@${queued('cart:2')[1]}`, `cart:3@${queued('cart:3')[1]}`])
    expect(events.filter((e) => e.type === 'coalesced').map((e) => e.type === 'coalesced' && e.key)).toEqual(['cart:1'])
    expect(events.filter((e) => e.type === 'retry').map((e) => e.type === 'retry' && [e.key, e.version])).toEqual([['cart:3', queued('cart:3')[0]]])
    expect(await a.size()).toBe(0)
  })
})
