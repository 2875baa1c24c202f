// Write-behind over Cloudflare Queues in miniflare (real queue broker, real D1), driven through the Worker's fetch.
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let mf: Miniflare

interface State {
  rows: { key: string; n: number; version: number }[]
  applied: { key: string; version: number }[]
  dead: { key: string; version: number; attempts: number; error: string }[]
}

async function state(): Promise<State> {
  return (await (await mf.dispatchFetch('http://worker/state')).json()) as State
}

/** Polls the Worker's state until `done` holds; the queue broker delivers on its own (real) timers. */
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
    entryPoints: [fileURLToPath(new URL('../fixtures/write-behind-worker.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    write: false,
  })
  mf = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0]?.text ?? '',
    compatibilityDate: '2026-04-01',
    d1Databases: ['DB'],
    queueProducers: { WRITES: { queueName: 'writes' }, DLQ: { queueName: 'writes-dlq' } },
    queueConsumers: { writes: { maxBatchSize: 10, maxBatchTimeout: 0.2 }, 'writes-dlq': { maxBatchSize: 10, maxBatchTimeout: 0.2 } },
  })
  await mf.ready
}, 60_000)

afterAll(async () => {
  await mf?.dispose()
})

describe('write-behind over Cloudflare Queues (miniflare)', () => {
  it('persists every acknowledged write, the newest version of each key, each version applied at most once', async () => {
    const acked = new Map<string, number>()
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 10; k++) {
        const response = await mf.dispatchFetch(`http://worker/write?key=item:${k}&n=${round}`)
        expect(((await response.json()) as { cached: { n: number } }).cached.n).toBe(round)
        acked.set(`item:${k}`, round)
      }
    }
    const s = await until((s) => s.rows.length === 10 && s.rows.every((r) => r.n === 2))
    expect(s.rows.map((r) => [r.key, r.n])).toEqual([...acked].sort(([a], [b]) => (a < b ? -1 : 1)))
    // Versions grow with each write of a key; at most one application per (key, version) however often delivered.
    const applied = new Set(s.applied.map((a) => `${a.key}@${a.version}`))
    expect(applied.size).toBeGreaterThanOrEqual(10)
    expect(applied.size).toBeLessThanOrEqual(30)
    for (const row of s.rows) expect(applied.has(`${row.key}@${row.version}`)).toBe(true)
  }, 60_000)

  it('retries a batch that fails, isolates the record that keeps failing and sends it to the dead letter queue', async () => {
    await mf.dispatchFetch('http://worker/write?key=ok:1&n=1')
    await mf.dispatchFetch('http://worker/write?key=bad:1&n=1&poison')
    await mf.dispatchFetch('http://worker/write?key=ok:2&n=2')
    const s = await until((s) => s.dead.length === 1 && s.rows.some((r) => r.key === 'ok:2'))
    expect(s.rows.filter((r) => r.key.startsWith('ok:')).map((r) => r.key)).toEqual(['ok:1', 'ok:2'])
    expect(s.rows.some((r) => r.key === 'bad:1')).toBe(false)
    expect(s.dead.map((d) => [d.key, d.attempts, d.error])).toEqual([['bad:1', 3, 'constraint violated']])
  }, 60_000)
})
