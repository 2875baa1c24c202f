// Requests to KV and to the Durable Objects per request kind, on the tiers createEdgeCache builds from Cloudflare
// bindings only (Cache API L1, KV L2, durableObjectCoordinator): the cost column of the edge README's table.
import type { Cache } from '@tiercache/core'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { createEdgeCache, type DurableObjectNamespaceLike, type KvNamespaceLike } from '../../src/index'
import { manualClock, unique } from '../support/services'

interface Counts {
  kv: string[]
  objects: string[]
}

/** KV and Durable Object bindings that record each call (KV operation, or object request path). */
function countingBindings(): { TIERCACHE_KV: KvNamespaceLike; TIERCACHE: DurableObjectNamespaceLike; counts: Counts } {
  const counts: Counts = { kv: [], objects: [] }
  const kv = env.TEST_KV
  const TIERCACHE_KV = {
    get(keys: string | string[], options: { type: 'text' }) {
      counts.kv.push(Array.isArray(keys) ? 'bulk get' : 'get')
      return kv.get(keys as string[], options)
    },
    put(key: string, value: string, options: KVNamespacePutOptions) {
      counts.kv.push('put')
      return kv.put(key, value, options)
    },
    delete(key: string) {
      counts.kv.push('delete')
      return kv.delete(key)
    },
  } as KvNamespaceLike
  const TIERCACHE: DurableObjectNamespaceLike = {
    idFromName: (name) => env.TIERCACHE.idFromName(name),
    get(id: never) {
      const stub = env.TIERCACHE.get(id as DurableObjectId)
      return {
        fetch(input, init) {
          counts.objects.push(new URL(input).pathname)
          return stub.fetch(input, init)
        },
      }
    },
  }
  return { TIERCACHE_KV, TIERCACHE, counts }
}

/** Reads of the current stamp from the clock object: at most one per isolate, the first time it loads a tagged entry. */
let stampReads = 0

/** Resolves once `condition` holds, checking every few ms; fails after 10 s (many times what it takes). */
async function until(condition: () => boolean): Promise<void> {
  for (const started = Date.now(); !condition(); await new Promise((r) => setTimeout(r, 5))) {
    if (Date.now() - started > 10_000) throw new Error('condition not met within 10 s')
  }
}

function take(counts: Counts): Counts {
  const objects = counts.objects.filter((path) => path !== '/stamp/read')
  stampReads += counts.objects.length - objects.length
  const copy = { kv: [...counts.kv], objects }
  counts.kv.length = 0
  counts.objects.length = 0
  return copy
}

describe('KV and Durable Object requests per request kind (Cache API + KV + durableObjectCoordinator)', () => {
  const prefix = `${unique('rt')}:`
  const clock = manualClock()
  const bindings = countingBindings()
  const isolate = (): Cache =>
    createEdgeCache(bindings, { cacheName: unique('rt-l1'), redisPrefix: prefix, now: clock.now, lockWait: '5s', policy: { ttl: '1h', tags: ['rt'] }, log: () => {} })
  const a = isolate()

  it('miss everywhere: 1 KV read and 1 lock request before the origin; then KV write, share and release in the background', async () => {
    take(bindings.counts)
    expect(await a.getOrSet('k', () => 'v')).toBe('v')
    await a.idle()
    const { kv, objects } = take(bindings.counts)
    expect(kv).toEqual(['get', 'put'])
    expect(objects.sort()).toEqual(['/lock/acquire', '/lock/release', '/lock/share'])
  })

  it('L1 hit: one tag read the first time (loading read no stamps), then nothing while the stamps are known', async () => {
    take(bindings.counts)
    expect(await a.getOrSet('k', () => 'not again')).toBe('v')
    expect(take(bindings.counts)).toEqual({ kv: [], objects: ['/tags/read'] })
    expect(await a.getOrSet('k', () => 'not again')).toBe('v')
    expect(take(bindings.counts)).toEqual({ kv: [], objects: [] })
  })

  it('L1 hit with a tag copy older than tagCacheTtl: one tag read, then nothing again', async () => {
    clock.advance(5_001)
    expect(await a.getOrSet('k', () => 'not again')).toBe('v')
    expect(take(bindings.counts)).toEqual({ kv: [], objects: ['/tags/read'] })
    expect(await a.getOrSet('k', () => 'not again')).toBe('v')
    expect(take(bindings.counts)).toEqual({ kv: [], objects: [] })
  })

  it('L1 miss, L2 hit in an isolate that never saw the tag: 1 KV read and 1 tag read', async () => {
    const b = isolate()
    expect(await b.getOrSet('k', () => 'not again')).toBe('v')
    await b.idle()
    expect(take(bindings.counts)).toEqual({ kv: ['get'], objects: ['/tags/read'] })
  })

  it('a lock waiter in another isolate: 1 KV read and 1 lock request, answered with the holder entry', async () => {
    const c = isolate()
    const d = isolate()
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let loading!: () => void
    const holding = new Promise<void>((resolve) => (loading = resolve))
    const holder = c.getOrSet('w', async () => {
      loading()
      await gate
      return 'shared'
    })
    // c holds the lock once its loader runs; d asks after that, and c answers once d's lock request is out.
    await holding
    take(bindings.counts)
    const waiter = d.getOrSet('w', () => 'should not run')
    await until(() => bindings.counts.objects.includes('/lock/acquire'))
    release()
    expect(await holder).toBe('shared')
    expect(await waiter).toBe('shared')
    await Promise.all([c.idle(), d.idle()])
    const { kv, objects } = take(bindings.counts)
    // The waiter's own: a KV read and one held lock request (plus a tag read, never having read 'rt' in d).
    // The rest is the holder's background write, share and release.
    expect(kv.sort()).toEqual(['get', 'put'])
    expect(objects.sort()).toEqual(['/lock/acquire', '/lock/release', '/lock/share', '/tags/read'])
  })

  it('invalidateTags: one stamp from the clock object, one raise per shard touched', async () => {
    await a.invalidateTags(['rt'])
    expect(take(bindings.counts)).toEqual({ kv: [], objects: ['/stamp', '/tags/raise'] })
  })

  it('asks the clock object for the current stamp at most once per isolate', () => {
    // Isolates a and c loaded tagged entries (b and d only read or waited): two reads at most, whatever the loads.
    expect(stampReads).toBeLessThanOrEqual(2)
  })

  it('getManyOrSet of 3 keys missing L1 and L2: one KV bulk read', async () => {
    const e = isolate()
    expect(await e.getManyOrSet(['m1', 'm2', 'm3'], (keys) => keys.map((k) => k.toUpperCase()))).toEqual(['M1', 'M2', 'M3'])
    await e.idle()
    const { kv } = take(bindings.counts)
    expect(kv.filter((op) => op.endsWith('get'))).toEqual(['bulk get'])
  })
})
