// The same Worker with no Upstash variables and no KV or Durable Object bindings (D1 only): an in-memory L2,
// announced once in the log.
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import worker from '../src/index'

describe('the edge example Worker without Upstash', () => {
  it('still caches, with an in-memory L2, and says so once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const statuses: (string | null)[] = []
    for (let i = 0; i < 2; i++) {
      const ctx = createExecutionContext()
      const res = await worker.fetch(new Request('https://example.test/api/products/1'), { DB: env.DB }, ctx)
      await waitOnExecutionContext(ctx)
      statuses.push(res.headers.get('cache-status'))
    }
    expect(statuses[0]).toBe('tiercache; fwd=miss; stored')
    expect(statuses[1]).toMatch(/^tiercache; hit; ttl=(9|10); detail=L1$/)
    // One line, naming the in-memory L2 and how to share it (Upstash or a KV binding).
    expect(warn.mock.calls).toHaveLength(1)
    expect(warn.mock.calls[0]?.[0]).toMatch(/^tiercache: L1 cache-api, L2 memory \(per isolate: set UPSTASH_REDIS_REST_URL/)
    warn.mockRestore()
  })
})
