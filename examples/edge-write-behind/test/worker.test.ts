// The Worker in miniflare (its real queue broker and D1), driven through fetch from Node.
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let mf: Miniflare

interface State {
  carts: { id: string; items: number; version: number }[]
  applied: { id: string; version: number }[]
  dead: { id: string; version: number; attempts: number; error: string }[]
}

async function state(): Promise<State> {
  return (await (await mf.dispatchFetch('http://worker/admin/state')).json()) as State
}

/** Polls the Worker's state until `done` holds: the queue broker delivers on its own (real) timers. */
async function until(done: (s: State) => boolean, timeoutMs = 30_000): Promise<State> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const s = await state()
    if (done(s) || Date.now() > end) return s
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('../src/worker.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'import'],
    write: false,
  })
  // The same bindings as wrangler.jsonc.
  mf = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0]?.text ?? '',
    compatibilityDate: '2026-04-01',
    d1Databases: ['DB'],
    queueProducers: { CART_WRITES: { queueName: 'cart-writes' }, CART_DLQ: { queueName: 'cart-dlq' } },
    queueConsumers: { 'cart-writes': { maxBatchSize: 10, maxBatchTimeout: 0.2 }, 'cart-dlq': { maxBatchSize: 10, maxBatchTimeout: 0.2 } },
  })
  await mf.ready
}, 60_000)

afterAll(async () => {
  await mf?.dispose()
})

describe('write-behind over Cloudflare Queues into D1', () => {
  it('answers from the cache at once; the database ends with the newest version of every acknowledged write', async () => {
    for (let round = 1; round <= 3; round++) {
      for (let k = 0; k < 10; k++) {
        const response = await mf.dispatchFetch(`http://worker/carts/c${k}?items=${round}`, { method: 'PUT' })
        expect(response.status).toBe(202)
        expect(await response.json()).toEqual({ items: round })
        expect(await (await mf.dispatchFetch(`http://worker/carts/c${k}`)).json()).toEqual({ items: round })
      }
    }
    const s = await until((s) => s.carts.filter((c) => c.id.startsWith('c')).length === 10 && s.carts.every((c) => c.items === 3))
    expect(s.carts.map((c) => [c.id, c.items])).toEqual(Array.from({ length: 10 }, (_, k) => [`c${k}`, 3]))
    // Each (cart, version) applied at most once however often delivered, and the kept version is one that was applied.
    const applied = s.applied.map((a) => `${a.id}@${a.version}`)
    expect(new Set(applied).size).toBe(applied.length)
    expect(applied.length).toBeGreaterThanOrEqual(10)
    for (const cart of s.carts) expect(applied).toContain(`${cart.id}@${cart.version}`)
  }, 60_000)

  it('retries a batch the database refused, persists the rest, and sends the refused write to the dead letter queue', async () => {
    await mf.dispatchFetch('http://worker/carts/ok-1?items=1', { method: 'PUT' })
    await mf.dispatchFetch('http://worker/carts/bad-1?items=-1', { method: 'PUT' })
    await mf.dispatchFetch('http://worker/carts/ok-2?items=2', { method: 'PUT' })
    const s = await until((s) => s.dead.length === 1 && s.carts.some((c) => c.id === 'ok-2'))
    expect(s.carts.filter((c) => c.id.startsWith('ok-')).map((c) => [c.id, c.items])).toEqual([
      ['ok-1', 1],
      ['ok-2', 2],
    ])
    expect(s.carts.some((c) => c.id === 'bad-1')).toBe(false)
    expect(s.dead.map((d) => [d.id, d.attempts])).toEqual([['bad-1', 3]])
    expect(s.dead[0]?.error).toMatch(/CHECK constraint failed/)
  }, 60_000)
})
