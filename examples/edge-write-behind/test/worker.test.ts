// The Worker in miniflare (its real queue broker and D1), driven through fetch from Node.
import { describe, expect, it } from 'vitest'
import { until as untilIn, withWorker, type State } from './miniflare.js'

const worker = withWorker(new URL('../src/worker.ts', import.meta.url))
const until = (done: (s: State) => boolean): Promise<State> => untilIn(worker(), done)

describe('write-behind over Cloudflare Queues into D1', () => {
  it('answers from the cache at once; the database ends with the newest version of every acknowledged write', async () => {
    for (let round = 1; round <= 3; round++) {
      for (let k = 0; k < 10; k++) {
        const response = await worker().dispatchFetch(`http://worker/carts/c${k}?items=${round}`, { method: 'PUT' })
        expect(response.status).toBe(202)
        expect(await response.json()).toEqual({ items: round })
        expect(await (await worker().dispatchFetch(`http://worker/carts/c${k}`)).json()).toEqual({ items: round })
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
    await worker().dispatchFetch('http://worker/carts/ok-1?items=1', { method: 'PUT' })
    await worker().dispatchFetch('http://worker/carts/bad-1?items=-1', { method: 'PUT' })
    await worker().dispatchFetch('http://worker/carts/ok-2?items=2', { method: 'PUT' })
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
