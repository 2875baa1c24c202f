// Real isolates: three Workers running the same edge script (each its own V8 isolate and module state, with
// production compatibility settings), one KV namespace, the TiercacheCoordinator objects hosted by a fourth
// Worker, and an origin Worker counting loads, all in one miniflare started from Node.
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

interface Answer {
  isolate: string
  value: { value: string; loadedAt: number }
  loadedHere: boolean
  started: number
  answeredAt: number
  lockWaits: number
}

let mf: Miniflare
let runtimeOutput = ''
const ISOLATES = ['a', 'b', 'c'] as const

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'import'],
    write: false,
    logLevel: 'silent',
  })
  return result.outputFiles[0]?.text ?? ''
}

beforeAll(async () => {
  const [edge, origin] = await Promise.all([bundle('./fixtures/edge-isolate.ts'), bundle('./fixtures/origin.ts')])
  const compatibilityDate = '2026-04-01'
  const coordinator = { className: 'TiercacheCoordinator', scriptName: 'coordinator' }
  mf = new Miniflare({
    workers: [
      { name: 'coordinator', modules: true, script: edge, compatibilityDate, durableObjects: { TIERCACHE: { className: 'TiercacheCoordinator', useSQLite: true } } },
      ...ISOLATES.map((name) => ({
        name: `isolate-${name}`,
        modules: true,
        script: edge,
        compatibilityDate,
        bindings: { NAME: name },
        kvNamespaces: { KV: 'shared-kv' },
        durableObjects: { TIERCACHE: coordinator },
        serviceBindings: { ORIGIN: 'origin' },
      })),
      { name: 'origin', modules: true, script: origin, compatibilityDate },
    ],
    handleRuntimeStdio(stdout, stderr) {
      stdout.on('data', (chunk: Buffer) => (runtimeOutput += chunk.toString()))
      stderr.on('data', (chunk: Buffer) => (runtimeOutput += chunk.toString()))
    },
  })
  await mf.ready
}, 60_000)

afterAll(async () => {
  await mf?.dispose()
})

async function call(isolate: string, path: string, init?: { method: string }): Promise<Answer> {
  const worker = await mf.getWorker(`isolate-${isolate}`)
  const response = await worker.fetch(`http://edge${path}`, init)
  if (!response.ok) throw new Error(`${isolate} ${path}: ${response.status} ${await response.text()}`)
  return (await response.json()) as Answer
}

async function originCalls(key: string): Promise<number> {
  const worker = await mf.getWorker('origin')
  const counts = (await (await worker.fetch('http://origin/count')).json()) as Record<string, number>
  return counts[key] ?? 0
}

describe('durableObjectCoordinator across real isolates', () => {
  it('three isolates missing one key together make one origin call; waiters answer as soon as the holder has loaded', async () => {
    const lags: number[] = []
    for (const key of ['hot-1', 'hot-2', 'hot-3']) {
      const answers = await Promise.all(ISOLATES.map((name) => call(name, `/get?key=${key}&ms=300`)))
      expect(await originCalls(key)).toBe(1)
      const holder = answers.filter((a) => a.loadedHere)
      expect(holder).toHaveLength(1)
      expect(new Set(answers.map((a) => a.value.value)).size).toBe(1)
      const loadedAt = answers[0]?.value.loadedAt as number
      for (const a of answers) if (!a.loadedHere) lags.push(a.answeredAt - loadedAt)
    }
    console.log(`[isolates] 3 stampedes x 3 isolates: 3 origin calls; waiters answered ${lags.join(', ')} ms after the load (lockWait 10 s)`)
    // lockWait is 10 s: a waiter that polled or sat out its wait would be far past this.
    for (const lag of lags) expect(lag).toBeLessThan(2_000)
  })

  it('an uncacheable holder answer releases the waiters at once: they load for themselves', async () => {
    const holder = call('a', '/get?key=private&ms=1000&uncacheable=1')
    // The others ask once the holder's origin call has started (it holds the lock then), not after a fixed 150 ms
    // sleep, which a loaded machine can outrun (a waiter taking the lock first loads before the holder).
    await expect.poll(() => originCalls('private'), { timeout: 10_000, interval: 10 }).toBe(1)
    const [first, ...waiters] = await Promise.all([holder, call('b', '/get?key=private&ms=0&uncacheable=1'), call('c', '/get?key=private&ms=0&uncacheable=1')])
    expect(await originCalls('private')).toBe(3)
    expect(first?.loadedHere).toBe(true)
    for (const w of waiters) {
      expect(w.loadedHere).toBe(true)
      // They waited for the holder (its load ends under 1 s after they asked), then loaded at once: well before
      // the end of their 10 s lockWait.
      expect(w.value.loadedAt).toBeGreaterThanOrEqual(first?.value.loadedAt as number)
      expect(w.answeredAt - w.started).toBeLessThan(5_000)
    }
  })

  it('tag invalidation through the objects reaches another isolate within tagCacheTtl (5 s on its own clock)', async () => {
    const first = await call('a', '/get?key=product&tag=products')
    // b's clock stands still from here: only the advances below move it. (It followed real time too, and the calls
    // between b's read and its check took over the 1 s left of tagCacheTtl at load 17: b read the tag again early.)
    await call('b', '/clock?freeze=1', { method: 'POST' })
    expect((await call('b', '/get?key=product&tag=products')).value.value).toBe(first.value.value)
    await call('a', '/invalidate?tag=products', { method: 'POST' })
    const reloaded = await call('a', '/get?key=product&tag=products')
    expect(reloaded.value.value).not.toBe(first.value.value)
    // An isolate that never read the tag sees the invalidation at once.
    expect((await call('c', '/get?key=product&tag=products')).value.value).toBe(reloaded.value.value)
    // b trusts the stamp it read with the entry for tagCacheTtl (the documented staleness bound)...
    expect((await call('b', '/get?key=product&tag=products')).value.value).toBe(first.value.value)
    await call('b', '/clock?advance=4000', { method: 'POST' })
    expect((await call('b', '/get?key=product&tag=products')).value.value).toBe(first.value.value)
    // ...and not longer.
    await call('b', '/clock?advance=1100', { method: 'POST' })
    expect((await call('b', '/get?key=product&tag=products')).value.value).toBe(reloaded.value.value)
    expect(await originCalls('product')).toBe(2)
  })

  it('workerd reported no hung request and no promise crossing request contexts', () => {
    // The capture works: the origin's own log lines are in it.
    expect(runtimeOutput).toContain('[origin] load hot-1 #1')
    expect(runtimeOutput).not.toMatch(/hung|different request|cross-request|Uncaught/i)
  })
})
