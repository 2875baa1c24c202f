// Cross-file isolation probe: 0.15.1 starts one Miniflare (one workerd) per
// test file, so Cache API entries and module state do not cross files.
// probe.test.ts writes /marker/probe; this file writes /marker/isolation and
// checks it cannot see the other's marker, whichever file ran first.
import { describe, expect, it } from 'vitest'

describe('cross-file isolation', () => {
  it('does not see the Cache API marker written by probe.test.ts', async () => {
    await caches.default.put(
      'https://tiercache.internal/marker/isolation',
      new Response('1', { headers: { 'cache-control': 'max-age=600' } }),
    )
    expect(await caches.default.match('https://tiercache.internal/marker/probe')).toBeUndefined()
  })
})
