import { createCache, memoryStore } from '@tiercache/core'

interface User {
  id: number
  name: string
}

/** A stand-in for a users table that can refuse a write. */
function createUsersTable() {
  const rows = new Map<number, User>([[1, { id: 1, name: 'Ada' }]])
  return {
    rows,
    async update(user: User) {
      if (user.name === '') throw new Error('name must not be empty')
      rows.set(user.id, user)
    },
  }
}

export async function writeThrough() {
  const users = createUsersTable()
  const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '10m' } })
  const load = () => users.rows.get(1)
  await cache.getOrSet('user:1', load)

  // The database first; every tier once it took the write. Writes of one key run in call order.
  await cache.write('user:1', { id: 1, name: 'Ada Lovelace' }, (user) => users.update(user))

  // A refused write caches nothing: readers keep seeing what the database holds.
  const refused = await cache.write('user:1', { id: 1, name: '' }, (user) => users.update(user)).catch((e: Error) => e.message)

  return { cached: await cache.getOrSet('user:1', load), refused, row: users.rows.get(1) }
}
