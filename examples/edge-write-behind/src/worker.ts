// Write-behind on Cloudflare Workers: carts answer at once from the cache, Cloudflare Queues hold the writes, and
// this Worker's queue() handler persists them into D1, idempotently by version.
import { createCache, createWriteBehind, memoryStore, type DeadLetter, type WriteRecord } from '@tiercache/core'
import { cloudflareWriteQueue, consumeWriteBatch } from '@tiercache/edge'

export interface Cart {
  items: number
}

export interface Env {
  DB: D1Database
  CART_WRITES: Queue<WriteRecord<Cart>>
  CART_DLQ: Queue<DeadLetter<Cart>>
}

const SCHEMA = [
  // The CHECK makes the database refuse some writes: those end in the dead letter queue.
  'CREATE TABLE IF NOT EXISTS carts (id TEXT PRIMARY KEY, items INTEGER CHECK (items >= 0), version INTEGER)',
  'CREATE TABLE IF NOT EXISTS applied (id TEXT, version INTEGER)',
  'CREATE TABLE IF NOT EXISTS dead (id TEXT, version INTEGER, attempts INTEGER, error TEXT)',
]

const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1h' } })

async function schema(db: D1Database): Promise<void> {
  await db.batch(SCHEMA.map((sql) => db.prepare(sql)))
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    await schema(env.DB)
    const url = new URL(request.url)
    const id = /^\/carts\/([\w-]+)$/.exec(url.pathname)?.[1]
    if (id !== undefined && request.method === 'PUT') {
      // fetch(): cached at once, held by the queue
      const carts = createWriteBehind<Cart>({ cache, queue: cloudflareWriteQueue(env.CART_WRITES) })
      await carts.set(`cart:${id}`, { items: Number(url.searchParams.get('items')) }) // cached, and held by the queue
      return Response.json(await cache.get(`cart:${id}`), { status: 202 })
    }
    if (id !== undefined) {
      const cart = await cache.getOrSet(`cart:${id}`, () => env.DB.prepare('SELECT items FROM carts WHERE id = ?').bind(id).first<Cart>())
      return Response.json(cart)
    }
    if (url.pathname === '/admin/state') {
      const all = (sql: string) => env.DB.prepare(sql).all().then((r) => r.results)
      return Response.json({
        carts: await all('SELECT id, items, version FROM carts ORDER BY id'),
        applied: await all('SELECT id, version FROM applied'),
        dead: await all('SELECT id, version, attempts, error FROM dead'),
      })
    }
    return new Response('not found', { status: 404 })
  },

  async queue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
    await schema(env.DB)
    if (batch.queue === 'cart-dlq') {
      for (const message of (batch as MessageBatch<DeadLetter<Cart>>).messages) {
        const { record, error } = message.body
        await env.DB.prepare('INSERT INTO dead VALUES (?, ?, ?, ?)').bind(record.key.slice(5), record.version, record.attempts, error).run()
        message.ack()
      }
      return
    }
    // queue(): persist into D1
    await consumeWriteBatch(batch as MessageBatch<WriteRecord<Cart>>, {
      retry: { attempts: 3, backoff: '1s', maxBackoff: '1s' },
      deadLetter: env.CART_DLQ,
      async persist(records) {
        // Idempotent by version: a record applied twice, or after a newer one, changes nothing.
        await env.DB.batch(
          records.flatMap((r) => [
            env.DB.prepare(
              'INSERT INTO carts (id, items, version) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET items = ?2, version = ?3 WHERE carts.version < ?3',
            ).bind(r.key.slice(5), r.value?.items ?? null, r.version),
            env.DB.prepare('INSERT INTO applied VALUES (?, ?)').bind(r.key.slice(5), r.version),
          ]),
        )
      },
    })
  },
}
