// The example Worker's origin is the products table in D1 (migrations/ applied by test/apply-migrations.ts), and
// its L2 and coordinator come from the bindings or from TIERCACHE_L2 / TIERCACHE_COORDINATOR. (The choice from the
// bindings alone, without Upstash, is in cloudflare-only.test.ts: a Worker builds that cache once per isolate.)
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import worker, { type Env } from '../src/index'

async function send(path: string, bindings: Env = env, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext()
  const response = await worker.fetch(new Request(`https://example.test${path}`, init), bindings, ctx)
  await waitOnExecutionContext(ctx)
  return response
}

/** The bindings without Upstash: D1, KV and the Durable Object. */
function cloudflareOnly(extra: Partial<Env> = {}): Env {
  return { DB: env.DB, TIERCACHE_KV: env.TIERCACHE_KV, TIERCACHE: env.TIERCACHE, ...extra }
}

describe('the D1 origin', () => {
  it('answers from the seeded products table; a 404 for an id it does not hold', async () => {
    const mug = await send('/api/products/3?t=d1')
    expect(await mug.json()).toEqual({ id: '3', name: 'Mug', cents: 900 })
    expect(mug.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    expect((await send('/api/products/99?t=d1')).status).toBe(404)
  })

  it('a price change in D1 invalidates the tag: the next request reads the new row', async () => {
    const before = await send('/api/products/4?t=price')
    expect(await before.json()).toEqual({ id: '4', name: 'Tea towel', cents: 700 })
    expect((await send('/api/products/4?t=price')).headers.get('cache-status')).toMatch(/^tiercache; hit/)
    const changed = await send('/admin/price?id=4&cents=750', env, { method: 'POST' })
    expect(changed.status).toBe(204)
    const row = await env.DB.prepare('SELECT cents FROM products WHERE id = ?').bind('4').first<{ cents: number }>()
    expect(row?.cents).toBe(750)
    const after = await send('/api/products/4?t=price')
    expect(after.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    expect(await after.json()).toEqual({ id: '4', name: 'Tea towel', cents: 750 })
    expect((await send('/admin/price?id=404&cents=1', env, { method: 'POST' })).status).toBe(404)
  })
})

describe('the tier picker', () => {
  const info = vi.spyOn(console, 'info').mockImplementation(() => {})
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})

  it.each([
    ['Upstash configured', env as Env, { l2: 'upstash', coordinator: 'upstash' }],
    ['TIERCACHE_L2=memory', cloudflareOnly({ TIERCACHE_L2: 'memory' }), { l2: 'memory', coordinator: 'durable-object' }],
    ['TIERCACHE_COORDINATOR=local', cloudflareOnly({ TIERCACHE_COORDINATOR: 'local' }), { l2: 'kv', coordinator: 'local' }],
    ['both picked over Upstash', { ...(env as Env), TIERCACHE_L2: 'kv', TIERCACHE_COORDINATOR: 'durable-object' } as Env, { l2: 'kv', coordinator: 'durable-object' }],
  ] as const)('%s: GET /tiers names the choice, and a miss is stored then served from L1', async (label, bindings, choice) => {
    const tiers = await send('/tiers', bindings)
    expect(tiers.headers.get('cache-status')).toBe('tiercache; fwd=bypass')
    expect(await tiers.json()).toMatchObject(choice)
    const path = `/api/products/2?pick=${encodeURIComponent(label)}`
    const miss = await send(path, bindings)
    expect(await miss.json()).toEqual({ id: '2', name: 'Kettle', cents: 3900 })
    expect(miss.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    expect((await send(path, bindings)).headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=(9|10); detail=L1$/)
  })

  it('an unknown choice is refused with a TypeError naming the option', async () => {
    await expect(send('/tiers', cloudflareOnly({ TIERCACHE_L2: 'disk' as 'kv' }))).rejects.toThrow(/options\.l2 must be one of 'upstash', 'kv', 'memory'/)
    info.mockRestore()
    warn.mockRestore()
  })
})
