// withCache in workerd, with an origin that does not answer: the requests that joined a load which ran past the
// policy's hardTimeout fail with it (CacheError LOADER_TIMEOUT), as its own request does, instead of asking that
// origin once more, uncached and with no timeout (they then waited as long as it hung: the demo's hardTimeout test).
import { CacheError, createCache, memoryStore } from '@tiercache/core'
import { createExecutionContext } from 'cloudflare:test'
import { expect, it } from 'vitest'
import { withCache } from '../../src/index'

it('fails the requests that joined a load past hardTimeout with it, without asking the origin again', async () => {
  let calls = 0
  const handler = withCache(
    async () => {
      calls++
      // Longer than this file's test timeout (15 s, 75 times hardTimeout): a request waiting for it fails the test.
      await new Promise((resolve) => setTimeout(resolve, 60_000))
      return new Response('too late')
    },
    { cache: createCache({ tiers: [memoryStore()] }), policy: { ttl: '1m', hardTimeout: '200ms' } },
  )
  const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => handler(new Request('https://edge.test/hangs'), {}, createExecutionContext())))
  for (const outcome of outcomes) {
    expect(outcome.status).toBe('rejected')
    const reason = (outcome as PromiseRejectedResult).reason as unknown
    expect(reason).toBeInstanceOf(CacheError)
    expect((reason as CacheError).code).toBe('LOADER_TIMEOUT')
  }
  expect(calls).toBe(1)
})
