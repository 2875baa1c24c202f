// The example Worker in workerd, with Upstash (the testkit endpoint over a real redis-server).
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../src/index'

async function send(path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext()
  const response = await worker.fetch(new Request(`https://example.test${path}`, init), env, ctx)
  await waitOnExecutionContext(ctx)
  return response
}

describe('the edge example Worker', () => {
  it('caches /api answers: a miss is stored, the next request is an L1 hit', async () => {
    const miss = await send('/api/products/1')
    expect(await miss.json()).toEqual({ id: '1', name: 'Teapot', cents: 1800 })
    expect(miss.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    expect(miss.headers.get('cache-control')).toBe('public, max-age=10, stale-while-revalidate=60, stale-if-error=3600')
    const hit = await send('/api/products/1')
    expect(hit.headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=(9|10); detail=L1$/)
  })

  it('keeps a 404 for negativeTtl and passes other paths and cookie-setting answers through', async () => {
    expect((await send('/api/products/404')).headers.get('cache-control')).toBe('public, max-age=5')
    expect((await send('/api/products/404')).headers.get('cache-status')).toMatch(/^tiercache; hit/)
    expect((await send('/')).headers.get('cache-status')).toBe('tiercache; fwd=bypass')
    const session = await send('/api/session')
    expect(session.headers.get('cache-status')).toBe('tiercache; fwd=miss; detail=not-stored:set-cookie')
    expect(session.headers.get('set-cookie')).toBe('visited=1; Path=/')
  })

  it('invalidates by tag: the next request goes to the origin again', async () => {
    await send('/api/products/2')
    expect((await send('/api/products/2')).headers.get('cache-status')).toMatch(/hit/)
    const invalidated = await send('/admin/invalidate?tag=products', { method: 'POST' })
    expect(invalidated.status).toBe(204)
    expect(invalidated.headers.get('cache-status')).toBe('tiercache; fwd=method; detail=method')
    await new Promise((r) => setTimeout(r, 2))
    expect((await send('/api/products/2')).headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
  })
})
