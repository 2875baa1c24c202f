// The durability claim of write-behind on Redis Streams: a flusher killed in the middle of a batch loses nothing
// acknowledged, and what it had applied is not applied twice. Three processes: this one writes, a first flusher
// dies mid-batch (SIGKILL), a second one finishes; the "database" (rows applied only when newer) is counted.
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createCache, createWriteBehind, memoryStore } from '@tiercache/core'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { redisWriteQueue } from '../src/index.js'

const prefix = `wbproc${process.pid}:`
const name = 'carts'
const children: ChildProcess[] = []
let client: Redis

beforeAll(() => {
  client = new Redis(inject('REDIS_URL'), { enableOfflineQueue: true, maxRetriesPerRequest: 1 })
})

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  if (client !== undefined) {
    const keys = await client.keys(`${prefix}*`)
    if (keys.length > 0) await client.del(...keys)
    await client.quit()
  }
})

function flusher(mode: 'stall' | 'write-stall' | 'normal', queuePrefix = prefix): { child: ChildProcess; lines: Record<string, unknown>[]; closed: Promise<void> } {
  const tsx = createRequire(import.meta.url).resolve('tsx')
  const script = fileURLToPath(new URL('./fixtures/flusher-child.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', tsx, script, inject('REDIS_URL'), queuePrefix, name, mode], { stdio: ['pipe', 'pipe', 'inherit'] })
  children.push(child)
  const lines: Record<string, unknown>[] = []
  const reader = createInterface({ input: child.stdout as NodeJS.ReadableStream })
  reader.on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      // not ours
    }
  })
  // Every line the child wrote before it died, read to the end of its stdout.
  const closed = new Promise<void>((resolve) => reader.once('close', resolve))
  return { child, lines, closed }
}

async function until(done: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('write-behind on Redis Streams across processes', () => {
  it('a flusher killed mid-batch loses no acknowledged write, and none is applied twice', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' } })
    const queue = redisWriteQueue({ client, prefix, name })
    const writes = createWriteBehind({ cache, queue, flusher: false })
    // 3 rounds over 50 carts: 150 acknowledged writes, the last of each cart is what the database must hold.
    const last = new Map<string, unknown>()
    for (let round = 1; round <= 3; round++) {
      for (let i = 0; i < 50; i++) {
        const value = { cart: i, round }
        await writes.set(`cart:${i}`, value)
        last.set(`cart:${i}`, value)
      }
    }
    expect(await queue.size()).toBe(150)

    const first = flusher('stall')
    await until(() => first.lines.some((l) => l.type === 'mid-batch'), 'the first flusher to get mid-batch')
    first.child.kill('SIGKILL')
    await new Promise((resolve) => first.child.once('exit', resolve))
    const appliedByFirst = await client.llen(`${prefix}db:applied`)
    expect(appliedByFirst).toBe(10) // half of its first batch of 20, none of it acknowledged to the queue

    const second = flusher('normal')
    await until(async () => (await queue.size()) === 0, 'the second flusher to empty the queue')

    const rows = await client.hgetall(`${prefix}db:rows`)
    expect(Object.keys(rows)).toHaveLength(50)
    for (const [key, value] of last) expect(JSON.parse(rows[key] as string).value).toEqual(value)
    const applied = await client.lrange(`${prefix}db:applied`, 0, -1)
    // Every acknowledged write applied exactly once: 150 distinct (cart, version) pairs, no pair twice...
    expect(applied).toHaveLength(150)
    expect(new Set(applied).size).toBe(150)
    // ...although the 10 the first flusher applied were delivered again (claimed from its pending list) and skipped.
    expect(Number(await client.get(`${prefix}db:duplicates`))).toBe(10)
    for (const [key, row] of Object.entries(rows)) expect(applied).toContain(`${key}@${JSON.parse(row).version}`)
    second.child.stdin?.end()
    await new Promise((resolve) => second.child.once('exit', resolve))
  }, 120_000)

  it('an app server that takes writes and flushes, killed mid-batch, loses none it acknowledged; another finishes', async () => {
    const own = `${prefix}ws:`
    const queue = redisWriteQueue({ client, prefix: own, name })
    const first = flusher('write-stall', own)
    // Killed while its flusher hangs in the middle of its second batch and it keeps acknowledging writes.
    await until(() => first.lines.some((l) => l.type === 'mid-batch') && first.lines.filter((l) => l.type === 'ack').length >= 150, 'acknowledged writes and a stalled batch')
    first.child.kill('SIGKILL')
    await Promise.all([new Promise((resolve) => first.child.once('exit', resolve)), first.closed])
    const acks = first.lines.filter((l) => l.type === 'ack') as { key: string; version: number; value: unknown }[]
    expect(acks.length).toBeGreaterThanOrEqual(150)
    expect(first.lines.some((l) => l.type === 'written')).toBe(false) // killed while still writing
    const appliedByFirst = await client.llen(`${own}db:applied`)
    expect(appliedByFirst).toBeGreaterThan(0) // its first batch and half its second
    expect(appliedByFirst).toBeLessThan(acks.length)

    const second = flusher('normal', own)
    await until(async () => (await queue.size()) === 0, 'the second flusher to empty the queue')

    const newest = new Map<string, { version: number; value: unknown }>()
    for (const ack of acks) newest.set(ack.key, { version: ack.version, value: ack.value })
    const rows = await client.hgetall(`${own}db:rows`)
    expect(Object.keys(rows).sort()).toEqual([...newest.keys()].sort()) // 40 carts, one row each
    // The newest acknowledged write of each cart is what the database holds; at most one cart holds a newer one,
    // the write that was in flight (queued, not yet acknowledged) when the process died.
    let inFlight = 0
    for (const [key, ack] of newest) {
      const row = JSON.parse(rows[key] as string) as { version: number; value: unknown }
      if (row.version === ack.version) expect(row.value).toEqual(ack.value)
      else {
        expect(row.version).toBeGreaterThan(ack.version)
        inFlight++
      }
    }
    expect(inFlight).toBeLessThanOrEqual(1)
    // Nothing applied twice, although the stalled half batch was delivered again.
    const applied = await client.lrange(`${own}db:applied`, 0, -1)
    expect(new Set(applied).size).toBe(applied.length)
    second.child.stdin?.end()
    await new Promise((resolve) => second.child.once('exit', resolve))
  }, 120_000)
})
