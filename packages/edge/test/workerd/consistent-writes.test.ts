// withConsistentWrites in workerd, over miniflare's real Workers KV and Durable Objects: two simulated isolates
// (own memory L1 and durableObjectCoordinator each; one KV L2 and one object namespace). A load that read the old
// row before the other isolate's write stores it in its L1 and in KV afterwards (KV cannot compare-and-set); no
// isolate serves it, because the entry carries the key's tag and the write raised that tag's stamp.
import { createCache, memoryStore, withConsistentWrites, type Cache } from '@tiercache/core'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { durableObjectCoordinator, kvStore } from '../../src/index'
import { unique } from '../support/services'

function isolate(prefix: string, kvPrefix: string, consistent: boolean): Cache {
  // A timeout many times the usual object answer (see durable-object-coordinator.test.ts).
  const coordinator = durableObjectCoordinator({ namespace: env.TIERCACHE, prefix, timeout: '10s' })
  const cache = createCache({
    tiers: [memoryStore(), kvStore({ namespace: env.TEST_KV, prefix: kvPrefix })],
    coordinator,
    tierTimeout: '10s',
    lockWait: '10s',
    policy: { ttl: '1h' },
  })
  return consistent ? withConsistentWrites(cache) : cache
}

/** B's load reads the row, A writes the new one, then B's load stores the row it read. */
async function race(consistent: boolean) {
  const prefix = `${unique('cw')}:`
  const kvPrefix = `${unique('cw-kv')}:`
  const a = isolate(prefix, kvPrefix, consistent)
  const b = isolate(prefix, kvPrefix, consistent)
  const db = new Map([['product:1', 'old']])
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => (release = resolve))
  let read: () => void = () => {}
  const wasRead = new Promise<void>((resolve) => (read = resolve))
  const slow = b.getOrSet('product:1', async () => {
    const row = db.get('product:1')
    read()
    await held
    return row
  })
  await wasRead
  await a.write('product:1', 'new', (value) => void db.set('product:1', value))
  release()
  const answered = await slow
  await Promise.all([a.idle(), b.idle()])
  const load = async () => db.get('product:1') ?? null
  // A third isolate, started after the race, reads what KV holds.
  const c = isolate(prefix, kvPrefix, consistent)
  return { answered, served: [await b.get('product:1'), await b.getOrSet('product:1', load), await c.getOrSet('product:1', load)] }
}

describe('withConsistentWrites with durableObjectCoordinator and kvStore', () => {
  it('a load that read the old row before another isolate wrote leaves it served nowhere', async () => {
    const r = await race(true)
    expect(r.answered).toBe('old') // its caller asked before the write
    expect(r.served).toEqual([undefined, 'new', 'new'])
  })

  it('without it, the same race leaves the old row in B and in KV', async () => {
    const r = await race(false)
    expect(r.served).toEqual(['old', 'old', 'old'])
  })
})
