import { createCache, memoryCoordinator, memoryStore, withConsistentWrites } from '@tiercache/core'

/** A stand-in for a products table. */
const rows = new Map<string, { price: number }>([['product:1', { price: 10 }]])

/**
 * Two servers, each with its own memory tier, sharing an L2 and a coordinator: in production a redisStore and a
 * redisCoordinator (@tiercache/redis), or upstashStore/kvStore with upstashCoordinator/durableObjectCoordinator.
 */
export async function consistentWritesExample() {
  const shared = memoryStore()
  const coordinator = memoryCoordinator()
  // Every key of these caches; `{ keys: (key) => key.startsWith('product:') }` would cover only those.
  const server = () => withConsistentWrites(createCache({ tiers: [memoryStore(), shared], coordinator, policy: { ttl: '10m' } }))
  const a = server()
  const b = server()
  const load = (ctx: { key: string }) => rows.get(ctx.key)

  // Server B misses and reads the row; its answer is slow to come back...
  let answer!: () => void
  const answered = new Promise<void>((resolve) => (answer = resolve))
  let read!: () => void
  const wasRead = new Promise<void>((resolve) => (read = resolve))
  const slowRead = b.getOrSet('product:1', async (ctx) => {
    const row = load(ctx)
    read()
    await answered
    return row
  })
  await wasRead

  // ...while server A writes the new price: the database first, then the key is invalidated on every server.
  await a.write('product:1', { price: 12 }, (row) => void rows.set('product:1', row))

  // B's read now stores the old row in B's memory tier and the shared tier: dead on arrival, everywhere.
  answer()
  const oldAnswer = await slowRead
  await b.idle()
  return { oldAnswer, onA: await a.getOrSet('product:1', load), onB: await b.getOrSet('product:1', load) }
}
