import { createCache, createWriteBehind, memoryStore, type WriteRecord } from '@tiercache/core'

/** A stand-in for a table of carts; each row remembers the version of the write that made it. */
function createCartsTable() {
  // items null: a deleted cart that keeps the delete's version, so an older write retried after it changes nothing.
  const rows = new Map<string, { items: string[] | null; version: number }>()
  return {
    rows,
    batches: 0,
    /** UPSERT ... WHERE version < $version: a write delivered twice, or after a newer one, changes nothing. */
    upsertMany(batch: readonly WriteRecord<{ items: string[] }>[]) {
      this.batches++
      for (const { key, op, value, version } of batch) {
        const row = rows.get(key)
        if (row !== undefined && row.version >= version) continue
        rows.set(key, { items: op === 'delete' ? null : (value?.items ?? []), version })
      }
    },
  }
}

export async function writeBehind() {
  const table = createCartsTable()
  const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1h' } })

  const carts = createWriteBehind<{ items: string[] }>({
    cache,
    persist: (batch) => table.upsertMany(batch), // batches of up to maxBatch, one record per key (the newest)
    flushInterval: '500ms',
    maxBatch: 100,
    retry: { attempts: 5, backoff: '1s' }, // then the record goes to carts.deadLetters()
    onEvent: (event) => {
      if (event.type === 'dead-letter') console.error('cart write failed for good', event.key, event.error)
    },
  })

  await carts.set('cart:42', { items: ['apple'] }) // answered once the cache and the queue hold it
  await carts.set('cart:42', { items: ['apple', 'pear'] })
  const fromCache = await cache.get('cart:42') // already there; the database follows within 500 ms

  await carts.close() // before exit: persists what is queued (the in-memory queue dies with the process)
  return { fromCache, row: table.rows.get('cart:42'), batches: table.batches }
}
