// The origin against a real D1 database: wrangler's getPlatformProxy runs the DB binding of wrangler.toml in
// miniflare (SQLite), in memory, with migrations/0001_products.sql applied as the demo start applies it.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getPlatformProxy } from 'wrangler'
import { Origin, OriginDownError, parseLatency, type Database } from './origin.js'

let db: Database
let dispose: () => Promise<void>

beforeAll(async () => {
  const proxy = await getPlatformProxy<{ DB: Database & { batch(statements: unknown[]): Promise<unknown> } }>({
    configPath: new URL('../wrangler.toml', import.meta.url).pathname,
    persist: false,
  })
  dispose = proxy.dispose
  db = proxy.env.DB
  const sql = readFileSync(new URL('../migrations/0001_products.sql', import.meta.url), 'utf8')
  const statements = sql
    .split('\n')
    .filter((line) => !line.startsWith('--'))
    .join('\n')
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '')
  // Twice: the migration is idempotent (CREATE TABLE IF NOT EXISTS, INSERT OR IGNORE).
  for (let i = 0; i < 2; i++) await proxy.env.DB.batch(statements.map((statement) => proxy.env.DB.prepare(statement)))
}, 60_000)

afterAll(async () => {
  await dispose?.()
})

const fast = () => new Origin({ latency: () => 0 })

describe('Origin on D1', () => {
  it('has products 1..50 from the seed and nothing else', async () => {
    const origin = fast()
    expect(await origin.product(db, 1)).toEqual({ id: 1, name: 'Walnut desk lamp', price: 1637, stock: 13, version: 1, updatedAt: '2026-01-01T00:00:00.000Z' })
    expect(await origin.product(db, 50)).toMatchObject({ id: 50, name: 'Cork blanket' })
    expect(await origin.product(db, 51)).toBeNull()
  })

  it('counts reads per key, a batch once per id, and the rows D1 read', async () => {
    const origin = fast()
    await origin.product(db, 3)
    const batch = await origin.products(db, [4, 3, 99])
    expect(batch.map((p) => p?.id ?? null)).toEqual([4, 3, null])
    const { rowsRead, ...counts } = origin.stats()
    expect(counts).toEqual({ calls: { 'product:3': 2, 'product:4': 1, 'product:99': 1 }, batches: 1, total: 2, failing: false })
    expect(rowsRead).toBeGreaterThanOrEqual(3)
  })

  it('writes an update to D1, bumping the version, without counting a read', async () => {
    const origin = fast()
    expect(await origin.update(db, 5, { price: 1234 })).toMatchObject({ id: 5, price: 1234, stock: 25, version: 2 })
    // Another Origin (another isolate) reads the row from the database.
    expect(await fast().product(db, 5)).toMatchObject({ price: 1234, version: 2 })
    expect(origin.stats().total).toBe(0)
    expect(await origin.update(db, 77, { price: 1 })).toBeNull()
  })

  it('fails every query while switched to failing', async () => {
    const origin = fast()
    origin.failing = true
    await expect(origin.product(db, 1)).rejects.toBeInstanceOf(OriginDownError)
    await expect(origin.products(db, [1, 2])).rejects.toBeInstanceOf(OriginDownError)
    await expect(origin.update(db, 1, { price: 1 })).rejects.toBeInstanceOf(OriginDownError)
    origin.failing = false
    expect(await origin.product(db, 1)).not.toBeNull()
  })
})

describe('parseLatency (ORIGIN_DELAY_MS)', () => {
  it('takes ms or a range, 150-250 when unset, and nothing else', () => {
    expect(parseLatency('0')?.()).toBe(0)
    const range = parseLatency('100-120') as () => number
    for (let i = 0; i < 20; i++) expect(range()).toBeGreaterThanOrEqual(100)
    for (let i = 0; i < 20; i++) expect(range()).toBeLessThanOrEqual(120)
    expect((parseLatency(undefined) as () => number)()).toBeGreaterThanOrEqual(150)
    expect(parseLatency('fast')).toBeUndefined()
  })
})
