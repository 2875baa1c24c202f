// The example Worker with Cloudflare bindings only (D1, KV, the Durable Object; no Upstash variables), as `pnpm dev`
// runs it: createEdgeCache picks KV for L2 and the Durable Object for tags and locks.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import worker, { type Env } from '../src/index'

const bindings: Env = { DB: env.DB, TIERCACHE_KV: env.TIERCACHE_KV, TIERCACHE: env.TIERCACHE }

async function send(path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext()
  const response = await worker.fetch(new Request(`https://example.test${path}`, init), bindings, ctx)
  await waitOnExecutionContext(ctx)
  return response
}

describe('the edge example Worker on Cloudflare bindings only', () => {
  it('picks KV + the Durable Object, says so once, and stores D1 rows in L1 and KV', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {})
    expect(await (await send('/tiers')).json()).toMatchObject({ l2: 'kv', coordinator: 'durable-object' })
    expect(info.mock.calls.map((call) => call[0])).toEqual(['tiercache: L1 cache-api, L2 kv (env.TIERCACHE_KV), coordinator durable-object (env.TIERCACHE)'])
    info.mockRestore()
    const miss = await send('/api/products/2')
    expect(await miss.json()).toEqual({ id: '2', name: 'Kettle', cents: 3900 })
    expect(miss.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    expect((await send('/api/products/2')).headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=(9|10); detail=L1$/)
    // The entry is in KV too (L2), where isolates whose L1 lacks it read it.
    const keys = await env.TIERCACHE_KV.list()
    expect(keys.keys.length).toBeGreaterThan(0)
  })

  it('an invalidation through the Durable Object makes the next request a miss', async () => {
    await send('/api/products/1')
    expect((await send('/api/products/1')).headers.get('cache-status')).toMatch(/^tiercache; hit/)
    expect((await send('/admin/invalidate?tag=products', { method: 'POST' })).status).toBe(204)
    expect((await send('/api/products/1')).headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
  })
})
