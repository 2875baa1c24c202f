import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redisWriteQueue } from '@tiercache/redis'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { createCarts } from '../src/carts.js'

const dir = mkdtempSync(join(tmpdir(), 'tc-carts-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('server write-behind example', () => {
  it('answers from the cache at once and persists the newest write of each cart in SQLite', async () => {
    const app = createCarts({ redisUrl: inject('REDIS_URL'), file: join(dir, 'carts.db'), prefix: `ex${process.pid}:` })
    await app.carts.set('cart:1', { items: ['apple'] })
    await app.carts.set('cart:1', { items: ['apple', 'pear'] })
    await app.carts.set('cart:2', { items: ['fig'] })
    expect(await app.cache.get('cart:1')).toEqual({ items: ['apple', 'pear'] })
    await app.carts.flush()
    expect(JSON.parse(app.row('cart:1')?.items ?? 'null')).toEqual(['apple', 'pear'])
    expect(JSON.parse(app.row('cart:2')?.items ?? 'null')).toEqual(['fig'])
    await app.carts.delete('cart:2')
    await app.carts.flush()
    expect(app.row('cart:2')).toBeUndefined()
    expect(await app.carts.size()).toBe(0)
    await app.close()
  })

  it('a write acknowledged by a process that does not flush is persisted by another one, later', async () => {
    const file = join(dir, 'restart.db')
    const prefix = `ex${process.pid}r:`
    const first = createCarts({ redisUrl: inject('REDIS_URL'), file, prefix, flusher: false })
    await first.carts.set('cart:9', { items: ['kiwi'] })
    expect(first.row('cart:9')).toBeUndefined()
    await first.close() // nothing persisted: the write waits in Redis
    const second = createCarts({ redisUrl: inject('REDIS_URL'), file, prefix })
    await second.carts.flush()
    expect(JSON.parse(second.row('cart:9')?.items ?? 'null')).toEqual(['kiwi'])
    await second.close()
  })

  it('a deleted cart stays deleted when an older write of it is delivered again after the delete', async () => {
    const prefix = `ex${process.pid}t:`
    const app = createCarts({ redisUrl: inject('REDIS_URL'), file: join(dir, 'tombstone.db'), prefix, flusher: false, claimAfter: '200ms' })
    await app.carts.set('cart:3', { items: ['plum'] })
    // A flusher takes that write and dies before persisting it: it stays pending, to be delivered again.
    const client = new Redis(inject('REDIS_URL'), { maxRetriesPerRequest: 1 })
    expect(await redisWriteQueue({ client, prefix, name: 'carts', consumer: 'dies' }).take(10, Date.now())).toHaveLength(1)
    await app.carts.delete('cart:3')
    await app.carts.flush()
    expect(app.row('cart:3')).toBeUndefined()
    // After claimAfter (Redis's clock) the write is claimed and persisted: it is older than the delete.
    for (const end = Date.now() + 10_000; (await app.carts.size()) > 0 && Date.now() < end; ) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      await app.carts.flush()
    }
    expect(await app.carts.size()).toBe(0)
    expect(app.row('cart:3')).toBeUndefined()
    await client.quit()
    await app.close()
  })

  it('two servers whose clocks are 10 s apart: the later write of a cart is the one persisted', async () => {
    const file = join(dir, 'skew.db')
    const prefix = `ex${process.pid}s:`
    const ahead = createCarts({ redisUrl: inject('REDIS_URL'), file, prefix, flusher: false })
    const behind = createCarts({ redisUrl: inject('REDIS_URL'), file, prefix, flusher: false, now: () => Date.now() - 10_000 })
    await ahead.carts.set('cart:7', { items: ['first'] })
    await ahead.carts.flush()
    await behind.carts.set('cart:7', { items: ['later'] })
    await behind.carts.flush()
    expect(JSON.parse(ahead.row('cart:7')?.items ?? 'null')).toEqual(['later'])
    await ahead.close()
    await behind.close()
  })
})
