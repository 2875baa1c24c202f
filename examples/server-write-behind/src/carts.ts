import { createCache, createWriteBehind, memoryStore, type Duration, type WriteRecord } from '@tiercache/core'
import { redisWriteQueue } from '@tiercache/redis'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'

export interface Cart {
  items: string[]
}

/** Carts answered from the cache at once, queued in Redis Streams, persisted into SQLite in batches. */
export function createCarts(options: { redisUrl: string; file: string; prefix?: string; flusher?: boolean; now?: () => number; claimAfter?: Duration }) {
  const db = new Database(options.file)
  // items NULL: a deleted cart, whose row keeps the delete's version (a tombstone).
  db.exec('CREATE TABLE IF NOT EXISTS carts (id TEXT PRIMARY KEY, items TEXT, version INTEGER NOT NULL)')
  // Applied only when newer: a record delivered twice (a flusher died before acknowledging it) changes nothing.
  const upsert = db.prepare(
    'INSERT INTO carts (id, items, version) VALUES (?, ?, ?) ' +
      'ON CONFLICT (id) DO UPDATE SET items = excluded.items, version = excluded.version WHERE carts.version < excluded.version',
  )
  const persistBatch = db.transaction((batch: readonly WriteRecord<Cart>[]) => {
    for (const { key, op, value, version } of batch) {
      // A delete is an upsert too: had it removed the row, an older write delivered after it would bring it back.
      upsert.run(key, op === 'delete' ? null : JSON.stringify(value?.items ?? []), version)
    }
  })

  const client = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 })
  const now = options.now ?? Date.now // this server's clock: it orders nothing across servers (Redis assigns versions)
  const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1h' }, now })
  const carts = createWriteBehind<Cart>({
    cache,
    queue: redisWriteQueue({ client, name: 'carts', prefix: options.prefix ?? 'tc:', claimAfter: options.claimAfter ?? '30s' }), // an acknowledged write is in Redis
    persist: (batch) => persistBatch(batch), // one SQLite transaction per batch
    flushInterval: '200ms',
    maxBatch: 500,
    flusher: options.flusher ?? true, // false in processes that only take writes; a worker process flushes
    now,
  })

  return {
    carts,
    cache,
    row: (id: string) => db.prepare('SELECT items, version FROM carts WHERE id = ? AND items IS NOT NULL').get(id) as { items: string; version: number } | undefined,
    async close() {
      await carts.close() // a durable queue keeps what is left for the next flusher
      await client.quit()
      db.close()
    },
  }
}
