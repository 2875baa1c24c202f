// Tenants sharing one L2 through withCache: namespace 'a' with keyPrefix 'r:' and namespace 'a:r' with keyPrefix ''
// must not read each other's responses (core escapes the namespace, so the stored keys differ).
import { createCache, memoryStore, type Store } from '@tiercache/core'
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { withCache } from '../../src/index'

function tenant(shared: Store, namespace: string, keyPrefix: string, body: string) {
  const handler = withCache(async () => new Response(body, { headers: { 'content-type': 'text/plain' } }), {
    cache: createCache({ tiers: [memoryStore(), shared], namespace, policy: { ttl: '1m' } }),
    policy: { ttl: '1m' },
    keyPrefix,
  })
  return async (path: string): Promise<string> => {
    const ctx = createExecutionContext()
    const response = await handler(new Request(`https://edge.test${path}`), {}, ctx)
    await waitOnExecutionContext(ctx)
    return response.text()
  }
}

describe('withCache tenants on one L2', () => {
  it("namespace 'a' + keyPrefix 'r:' never answers for namespace 'a:r' + keyPrefix '', nor the reverse", async () => {
    const shared = memoryStore()
    const a = tenant(shared, 'a', 'r:', 'tenant a')
    const ar = tenant(shared, 'a:r', '', 'tenant a:r')
    expect(await a('/secret')).toBe('tenant a')
    expect(await ar('/secret')).toBe('tenant a:r')
    expect(await a('/secret')).toBe('tenant a')
    expect(await ar('/other')).toBe('tenant a:r')
    expect(await a('/other')).toBe('tenant a')
  })
})
