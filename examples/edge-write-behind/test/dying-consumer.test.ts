// The durability claim of write-behind on Cloudflare Queues, in miniflare (its real queue broker and D1): a consumer
// invocation that dies in the middle of a batch (half of it applied, nothing acknowledged) loses no acknowledged
// write, and the batch delivered again to a new invocation applies nothing twice (records are applied only when
// newer, by version). Counted in the database: one row per cart holding its newest acknowledged write, and every
// (cart, version) applied at most once although half of each first batch was delivered twice.
import { describe, expect, it } from 'vitest'
import { until, withWorker } from './miniflare.js'

const worker = withWorker(new URL('./fixtures/dying-consumer.ts', import.meta.url))

describe('write-behind over Cloudflare Queues: a consumer that dies mid-batch', () => {
  it('loses no acknowledged write, and none is applied twice', async () => {
    const mf = worker()
    // 3 rounds over 8 carts, each write acknowledged (202: cached, and the queue holds it) before the next.
    const newest = new Map<string, number>()
    for (let round = 1; round <= 3; round++) {
      for (let k = 0; k < 8; k++) {
        expect((await mf.dispatchFetch(`http://worker/carts/c${k}?items=${round}`, { method: 'PUT' })).status).toBe(202)
        newest.set(`c${k}`, round)
      }
    }
    const s = await until(mf, (s) => s.carts.length === newest.size && s.carts.every((c) => c.items === newest.get(c.id)))
    // The consumer did die mid-batch, and later deliveries finished the work.
    const deliveries = (await (await mf.dispatchFetch('http://worker/deliveries')).json()) as { first: number; died: number }[]
    expect(deliveries.some((d) => d.died === 1)).toBe(true)
    expect(deliveries.some((d) => d.first === 0)).toBe(true)
    expect(s.carts.map((c) => [c.id, c.items])).toEqual([...newest].sort(([a], [b]) => a.localeCompare(b)))
    const applied = s.applied.map((a) => `${a.id}@${a.version}`)
    expect(new Set(applied).size).toBe(applied.length)
    for (const cart of s.carts) expect(applied).toContain(`${cart.id}@${cart.version}`)
  }, 60_000)
})
