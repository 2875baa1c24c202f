// The demo Worker (started as `npm run demo` starts it: D1 migrations, then wrangler dev on 127.0.0.1) with each L2 and
// coordinator it can pick: from the bindings (Workers KV + the Durable Object), `--l2 memory --coordinator local`, and
// Upstash for both when UPSTASH_REDIS_REST_URL/TOKEN are set (testkit's endpoint over a redis-server of its own). Each
// time: the choice is logged once and reported by /api/stats, the products come from D1 (counted queries), and a soft
// invalidation serves the old copy while one load runs, where a hard one makes the next request a miss.
import { startRedis, startUpstashServer, type RedisServer, type UpstashServer } from '@tiercache/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemo, type Demo } from './demo-process.js'

interface Stats {
  origin: { calls: Record<string, number>; total: number; rowsRead: number }
  tiers: { l2: string; coordinator: string; summary: string }
}

interface Answer {
  status: number
  cacheStatus: string
  price: number | undefined
}

let redis: RedisServer | undefined
let upstash: UpstashServer | undefined

afterAll(async () => {
  await upstash?.stop()
  await redis?.stop()
})

const choices = [
  { name: 'from the bindings', l2: 'kv', coordinator: 'durable-object', summary: 'L2 kv (env.TIERCACHE_KV), coordinator durable-object (env.TIERCACHE)' },
  { name: '--l2 memory --coordinator local', l2: 'memory', coordinator: 'local', args: ['--l2', 'memory', '--coordinator', 'local'], summary: 'L2 memory (' },
  { name: 'with Upstash configured', l2: 'upstash', coordinator: 'upstash', upstash: true, summary: 'L2 upstash (UPSTASH_REDIS_REST_URL), coordinator upstash' },
]

describe.each(choices)('the demo Worker, tiers $name', (choice) => {
  let demo: Demo

  beforeAll(async () => {
    const env: Record<string, string> = { ORIGIN_DELAY_MS: '20-40' }
    if (choice.upstash === true) {
      redis ??= await startRedis()
      upstash ??= await startUpstashServer({ redisUrl: redis.url })
      env.UPSTASH_REDIS_REST_URL = upstash.url
      env.UPSTASH_REDIS_REST_TOKEN = upstash.token
    }
    demo = await startDemo({ env, args: choice.args ?? [], external: false })
  })

  afterAll(async () => {
    await demo?.stop()
  })

  const stats = async (): Promise<Stats> => (await (await fetch(`${demo.url}/api/stats`)).json()) as Stats
  const calls = async (id: number): Promise<number> => (await stats()).origin.calls[`product:${id}`] ?? 0

  async function get(id: number): Promise<Answer> {
    const response = await fetch(`${demo.url}/api/products/${id}`)
    const body = (await response.json()) as { price?: number }
    return { status: response.status, cacheStatus: response.headers.get('cache-status') ?? '', price: body.price }
  }

  async function changePrice(id: number, price: number, mode: 'soft' | 'hard'): Promise<void> {
    const response = await fetch(`${demo.url}/api/products/${id}/price`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ price, mode }) })
    expect(response.status).toBe(200)
    expect(response.headers.get('tiercache-invalidated')).toBe(`product:${id}; mode=${mode}`)
    expect(await response.json()).toMatchObject({ id, price })
  }

  it('picks the tiers, logs the choice once, and reports it', async () => {
    const { tiers } = await stats()
    expect(tiers).toMatchObject({ l2: choice.l2, coordinator: choice.coordinator })
    expect(tiers.summary).toContain(choice.summary)
    expect(demo.output()).toMatch(new RegExp(`edge L2 ${choice.l2}, coordinator ${choice.coordinator}`))
    // The Worker's console reaches wrangler's output through its inspector, often after the demo printed its URL
    // (the memory choice, logged with console.warn, every time here): wait for it, then count.
    const logged = (): number => demo.output().split(`tiercache: L1 cache-api, ${choice.summary}`).length - 1
    await expect.poll(logged, { timeout: 10_000 }).toBeGreaterThan(0)
    expect(logged()).toBe(1)
  })

  it('answers from the seeded D1 table: a miss queries it once (D1 counts the rows read), a hit does not', async () => {
    const before = (await stats()).origin
    const miss = await fetch(`${demo.url}/api/products/17`)
    expect(await miss.json()).toMatchObject({ id: 17, name: 'Brass notebook', price: 900 + ((17 * 737) % 9100), version: 1 })
    expect(miss.headers.get('cache-status')).toBe('edge; fwd=miss; stored')
    const hit = await get(17)
    expect(hit.cacheStatus).toMatch(/^edge; hit/)
    const after = (await stats()).origin
    expect(after.total - before.total).toBe(1)
    expect(after.calls['product:17']).toBe(1)
    expect(after.rowsRead - before.rowsRead).toBeGreaterThanOrEqual(1)
  })

  it('soft: the next requests get the old price, stale, while one load brings the new one', async () => {
    const id = 23
    const old = (await get(id)).price
    expect((await get(id)).cacheStatus).toMatch(/^edge; hit/)
    const queries = await calls(id)
    await changePrice(id, 4321, 'soft')
    // The first request after it: the stale copy at once (its fresh time is over: ttl 0, Age the whole max-age).
    const first = await get(id)
    expect(first).toMatchObject({ status: 200, price: old })
    expect(first.cacheStatus).toMatch(/^edge; hit; ttl=0/)
    // Five more at once: each gets a copy (the old one, or the new one once stored), none waits on a miss of its own.
    const burst = await Promise.all(Array.from({ length: 5 }, () => get(id)))
    for (const answer of burst) {
      expect(answer.cacheStatus).toMatch(/^edge; hit/)
      expect([old, 4321]).toContain(answer.price)
    }
    await expect.poll(async () => (await get(id)).price, { timeout: 10_000 }).toBe(4321)
    // One database query for all of them: the background revalidation, with every L2 and coordinator. (With the
    // Upstash L2 and coordinator, about one burst in three once ran a second one: a request whose L2 read began
    // before the first refresh wrote judged the old entry after that refresh ended. Core now starts no refresh from
    // an entry a load of its process superseded meanwhile: engine/write-order.ts.)
    expect((await calls(id)) - queries).toBe(1)
  })

  it('hard: the next request is a miss that loads the new price; concurrent ones share that load', async () => {
    const id = 29
    await get(id)
    expect((await get(id)).cacheStatus).toMatch(/^edge; hit/)
    const queries = await calls(id)
    await changePrice(id, 5432, 'hard')
    const burst = await Promise.all(Array.from({ length: 5 }, () => get(id)))
    for (const answer of burst) expect(answer.price).toBe(5432)
    expect(burst.filter((answer) => answer.cacheStatus.startsWith('edge; fwd=miss')).length).toBeGreaterThanOrEqual(1)
    expect((await calls(id)) - queries).toBe(1)
    expect((await get(id)).cacheStatus).toMatch(/^edge; hit/)
  })
})
