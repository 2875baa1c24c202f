// A Worker of this example in miniflare (its real queue broker and D1), driven through fetch from Node: started with
// the bindings of wrangler.jsonc, and its database state polled while the broker delivers on its own (real) timers.
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll } from 'vitest'

export interface State {
  carts: { id: string; items: number; version: number }[]
  applied: { id: string; version: number }[]
  dead: { id: string; version: number; attempts: number; error: string }[]
}

/** The Worker whose module is `entry`, bundled as wrangler does and started with the bindings of wrangler.jsonc. */
export async function startWorker(entry: URL): Promise<Miniflare> {
  const bundle = await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'import'],
    write: false,
  })
  const mf = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0]?.text ?? '',
    compatibilityDate: '2026-04-01',
    d1Databases: ['DB'],
    queueProducers: { CART_WRITES: { queueName: 'cart-writes' }, CART_DLQ: { queueName: 'cart-dlq' } },
    queueConsumers: { 'cart-writes': { maxBatchSize: 10, maxBatchTimeout: 0.2 }, 'cart-dlq': { maxBatchSize: 10, maxBatchTimeout: 0.2 } },
  })
  await mf.ready
  return mf
}

/** Polls the Worker's database until `done` holds (or `timeoutMs` passed), and returns what it last saw. */
export async function until(mf: Miniflare, done: (s: State) => boolean, timeoutMs = 30_000): Promise<State> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const s = (await (await mf.dispatchFetch('http://worker/admin/state')).json()) as State
    if (done(s) || Date.now() > end) return s
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Starts the Worker before the file's tests and stops it after them; the tests get it from the returned function. */
export function withWorker(entry: URL): () => Miniflare {
  let mf: Miniflare | undefined
  beforeAll(async () => {
    mf = await startWorker(entry)
  }, 60_000)
  afterAll(async () => {
    await mf?.dispose()
  })
  return () => mf as Miniflare
}
