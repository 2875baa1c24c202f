import { describe, expect, it } from 'vitest'
import { createCache, memoryStore } from '@tiercache/core'
import { readOnlyValues } from './read-only-values.js'

describe('read-only values example', () => {
  it('every caller gets the stored object; a copy written back changes it for everyone', async () => {
    expect(await readOnlyValues()).toEqual({ shared: true, tags: ['home', 'sale'], frozen: true })
  })

  it('is what the README says: a change to what a hit returned is what the next caller reads', async () => {
    const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '5m' } })
    const load = () => ({ tags: ['home'] })
    const loaded = await cache.getOrSet('k', load)
    loaded?.tags.push('changed by a caller')
    expect((await cache.getOrSet('k', load))?.tags).toEqual(['home', 'changed by a caller'])
  })
})
