import { createCache, memoryStore } from '@tiercache/core'

interface Product {
  id: number
  name: string
  tags: string[]
}

/** What the memory tier hands out: the object it holds, shared by every caller. Copy before changing it. */
export async function readOnlyValues() {
  const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '5m' } })
  const load = (): Product => ({ id: 1, name: 'Lamp', tags: ['home'] })

  // A memory hit answers with the stored object itself (no copy: a copy per hit costs 6-90x the hit).
  // Every caller gets the same object: treat it as read-only.
  const first = await cache.getOrSet('product:1', load)
  const second = await cache.getOrSet('product:1', load)
  const shared = first === second // true

  // To change a value for one caller, change a copy...
  const draft = structuredClone(await cache.getOrSet('product:1', load))
  draft?.tags.push('sale')
  // ...and to change it for everyone, write the copy back.
  await cache.set('product:1', draft)

  // To make an accidental change throw instead, freeze what the loader returns.
  const frozen = await cache.getOrSet('product:2', () => Object.freeze({ id: 2, name: 'Desk', tags: Object.freeze(['office']) }))

  return { shared, tags: (await cache.getOrSet('product:1', load))?.tags, frozen: Object.isFrozen(frozen) }
}
