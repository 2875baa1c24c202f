import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createCache, memoryStore } from '@tiercache/core'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest'
import { redisCoordinator, redisStore, type RedisCoordinator } from '../src/index.js'

interface Line {
  type: string
  pid: number
  heardAt: number
  id?: number
  value?: unknown
  inL1?: boolean
  keys?: string[]
  tags?: string[]
}

const prefix = `busproc${process.pid}:`
const children: { process: ChildProcess; lines: Line[] }[] = []
let client: Redis
let coordinator: RedisCoordinator

beforeAll(async () => {
  const tsx = createRequire(import.meta.url).resolve('tsx')
  const child = fileURLToPath(new URL('./fixtures/bus-child.ts', import.meta.url))
  for (let i = 0; i < 3; i++) {
    const proc = spawn(process.execPath, ['--import', tsx, child, inject('REDIS_URL'), prefix], { stdio: ['pipe', 'pipe', 'inherit'] })
    const entry = { process: proc, lines: [] as Line[] }
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        entry.lines.push(JSON.parse(line) as Line)
      } catch {
        // not ours
      }
    })
    children.push(entry)
  }
  client = new Redis(inject('REDIS_URL'), { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
  await new Promise((resolve) => client.once('ready', resolve))
  coordinator = redisCoordinator({ client, prefix, bus: { heartbeat: '200ms' } })
  const deadline = Date.now() + 60_000
  while (!(coordinator.bus?.up && children.every((c) => c.lines.some((l) => l.type === 'up')))) {
    if (Date.now() > deadline) throw new Error('the three processes did not get their bus up within 60 s')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}, 90_000)

afterAll(async () => {
  coordinator?.close()
  for (const c of children) c.process.stdin?.end()
  await Promise.all(children.map((c) => new Promise((resolve) => (c.process.exitCode !== null ? resolve(undefined) : c.process.once('exit', resolve)))))
  await client?.quit()
})

let requests = 0
async function ask(child: (typeof children)[number], key: string): Promise<Line> {
  const id = ++requests
  child.process.stdin?.write(`${JSON.stringify({ id, key })}\n`)
  for (let i = 0; i < 1_000; i++) {
    const answer = child.lines.find((l) => l.type === 'answer' && l.id === id)
    if (answer !== undefined) return answer
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  throw new Error(`process ${child.process.pid} did not answer`)
}

/** Messages carry what the stores and the coordinator see: core's namespaced keys and tags (`<namespace>:<key>`). */
const names = (list: string[] | undefined, name: string): boolean => list?.some((n) => n === name || n.endsWith(`:${name}`)) === true

async function heardBy(type: 'keys' | 'tags', match: (line: Line) => boolean, sentAt: number): Promise<number[]> {
  const delays: number[] = []
  const deadline = Date.now() + 10_000
  for (const child of children) {
    for (;;) {
      const line = child.lines.find((l) => l.type === type && match(l))
      if (line !== undefined) {
        delays.push(line.heardAt - sentAt)
        break
      }
      if (Date.now() > deadline) throw new Error(`process ${child.process.pid} never heard the ${type} message`)
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
  }
  return delays
}

describe('the bus across three processes', () => {
  it('a set, a delete and a tag invalidation reach all three within milliseconds, and their L1 drops the key', async () => {
    const cache = createCache({ tiers: [memoryStore(), redisStore({ client, coordinator, prefix: `${prefix}v:` })], coordinator, policy: { ttl: '1h' } })
    const delays: number[] = []
    for (let round = 0; round < 20; round++) {
      const key = `k${round}`
      await cache.set(key, 'one')
      for (const child of children) {
        await ask(child, key) // from Redis, into its L1
        expect(await ask(child, key)).toMatchObject({ value: 'one', inL1: true })
      }
      const sentAt = Date.now()
      await cache.set(key, 'two')
      delays.push(...(await heardBy('keys', (l) => names(l.keys, key) && l.heardAt >= sentAt, sentAt)))
      // Dropped from every L1 by the bus: the new value comes from Redis.
      for (const child of children) expect(await ask(child, key)).toMatchObject({ value: 'two', inL1: false })
      const tagSent = Date.now()
      await cache.invalidateTags([`tag${round}`])
      delays.push(...(await heardBy('tags', (l) => names(l.tags, `tag${round}`), tagSent)))
    }
    const deleteSent = Date.now()
    await cache.delete('k0')
    delays.push(...(await heardBy('keys', (l) => names(l.keys, 'k0') && l.heardAt >= deleteSent, deleteSent)))
    for (const child of children) expect((await ask(child, 'k0')).value).toBeUndefined()
    const sorted = [...delays].sort((a, b) => a - b)
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] as number
    console.log(`[bus] ${delays.length} deliveries to 3 processes: median ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${sorted.at(-1)} ms (from the call to the receiver's event)`)
    expect(delays).toHaveLength(41 * 3)
    expect(at(0.5)).toBeLessThan(200)
  }, 60_000)
})
