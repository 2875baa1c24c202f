// indexedDbStore on Chromium's real IndexedDB (vitest browser mode). Files of one browser session share the
// origin's IndexedDB: every store gets its own database.
import { createCache, memoryStore, type Entry } from '@tiercache/core'
import { runStoreContract } from '@tiercache/core/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { indexedDbStore, type IndexedDbStore } from '../../src/index.js'

let clockAt = Date.now()
const clock = { now: () => clockAt, advance: (ms: number) => void (clockAt += ms) }
const dbName = (label: string): string => `${label}-${crypto.randomUUID()}`

runStoreContract({
  name: 'indexedDbStore (Chromium)',
  create: () => indexedDbStore({ dbName: dbName('contract'), now: clock.now }),
  clock,
  cleanup: async (stores) => {
    await Promise.all(stores.map((store) => (store as IndexedDbStore).close()))
  },
})

const opened: IndexedDbStore[] = []
afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()))
})

function entry(value: unknown): Entry {
  const t = Date.now()
  return { value, createdAt: t, freshUntil: t + 60_000, staleUntil: t + 60_000 }
}

describe('indexedDbStore in Chromium', () => {
  it('measures get and getMany latency (logged, loosely bounded)', async () => {
    const store = indexedDbStore({ dbName: dbName('latency') })
    opened.push(store)
    const keys = Array.from({ length: 100 }, (_, i) => `item:${i}`)
    const value = { id: 0, name: 'product', tags: ['a', 'b'], body: 'x'.repeat(1_000) }
    await store.setMany(keys.map((key, i) => [key, entry({ ...value, id: i })] as const))
    await store.get(keys[0] as string) // the connection is open from here on
    // What makes a read cheap is counted: transactions on the entries' database (a wall-time bound alone fails on a
    // loaded machine and passes a read that opens a transaction per key).
    const transactions = { count: 0 }
    const transaction = IDBDatabase.prototype.transaction
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
      if (this.name === store.dbName) transactions.count++
      return transaction.apply(this, args)
    }
    const rounds = 200
    let started: number
    let getMs: number
    let getManyMs: number
    let getTransactions: number
    let getManyTransactions: number
    try {
      started = performance.now()
      for (let i = 0; i < rounds; i++) await store.get(keys[i % keys.length] as string)
      getMs = (performance.now() - started) / rounds
      getTransactions = transactions.count
      transactions.count = 0
      started = performance.now()
      for (let i = 0; i < 20; i++) await store.getMany(keys)
      getManyMs = (performance.now() - started) / 20
      getManyTransactions = transactions.count
    } finally {
      IDBDatabase.prototype.transaction = transaction
    }
    started = performance.now()
    for (let i = 0; i < 100; i++) await store.get(`missing:${i}`)
    const missMs = (performance.now() - started) / 100
    started = performance.now()
    for (let i = 0; i < 50; i++) await store.set(`w:${i}`, entry(value))
    const setMs = (performance.now() - started) / 50
    console.log(
      `[indexeddb latency] get hit ${getMs.toFixed(3)} ms, get miss ${missMs.toFixed(3)} ms, ` +
        `getMany(100 keys, 1 KB each) ${getManyMs.toFixed(3)} ms, set ${setMs.toFixed(3)} ms`,
    )
    // One transaction per get, one per getMany of 100 keys.
    expect(getTransactions).toBe(rounds)
    expect(getManyTransactions).toBe(20)
    // Sanity bounds only, 100x or more what an idle machine shows (0.4 ms and 9 ms at load 10): the counts above are the test.
    expect(getMs).toBeLessThan(200)
    expect(getManyMs).toBeLessThan(2_000)
  })

  it('measures a read while access times are written (logged, loosely bounded)', async () => {
    const store = indexedDbStore({ dbName: dbName('flush-latency') })
    opened.push(store)
    const keys = Array.from({ length: 1_000 }, (_, i) => `item:${i}`)
    await store.setMany(keys.map((key, i) => [key, entry({ id: i, body: 'x'.repeat(200) })] as const))
    const read = keys.slice(0, 100)
    const quiet: number[] = []
    const flushing: number[] = []
    for (let round = 0; round < 5; round++) {
      // Every key read: 1,000 access times wait in memory (the interval has not passed).
      for (let i = 0; i < keys.length; i += 100) await store.getMany(keys.slice(i, i + 100))
      await store.flush()
      for (let i = 0; i < keys.length; i += 100) await store.getMany(keys.slice(i, i + 100))
      let started = performance.now()
      await store.getMany(read)
      quiet.push(performance.now() - started)
      const flush = store.flush() // its transaction is on `<dbName>-lru`: the read below does not queue behind it
      started = performance.now()
      await store.getMany(read)
      flushing.push(performance.now() - started)
      await flush
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
    console.log(
      `[indexeddb flush] getMany(100) ${median(quiet).toFixed(3)} ms alone, ${median(flushing).toFixed(3)} ms while ` +
        `1,000 access times are written to ${store.lruDbName} (medians of 5)`,
    )
    expect(median(flushing)).toBeLessThan(2_000)
  })

  it('evicts least recently used entries instead of failing when large values exceed maxEntries', async () => {
    const store = indexedDbStore({ dbName: dbName('pressure'), maxEntries: 5 })
    opened.push(store)
    const big = 'x'.repeat(512 * 1024)
    for (let i = 0; i < 12; i++) await store.set(`big:${i}`, entry(big))
    expect(await store.count()).toBeLessThanOrEqual(5)
    expect((await store.get('big:11'))?.value).toBe(big)
    expect(await store.get('big:0')).toBeUndefined()
  })

  it('is a working L2 behind memory under createCache', async () => {
    const idb = indexedDbStore({ dbName: dbName('l2') })
    opened.push(idb)
    const first = createCache({ tiers: [memoryStore(), idb], policy: { ttl: '1m' } })
    await first.getOrSet('k', () => 'from loader')
    await first.idle()
    const second = createCache({ tiers: [memoryStore(), idb], policy: { ttl: '1m' } })
    const tiers: (string | undefined)[] = []
    second.subscribe((e) => e.type === 'hit' && tiers.push(e.tier))
    expect(await second.getOrSet('k', () => 'not again')).toBe('from loader')
    expect(tiers).toEqual(['indexeddb'])
  })
})
