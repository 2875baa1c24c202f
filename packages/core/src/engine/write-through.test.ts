import { describe, expect, it } from 'vitest'
import { createCache } from '../cache.js'
import type { Entry } from '../entry.js'
import { namespacePrefix } from '../keys.js'
import { memoryStore } from '../stores/memory.js'
import { deferred, flush, manualClock, ScriptedStore } from '../test-support/helpers.js'

/** The key the cache stores `key` under (no namespace). */
const stored = (key: string): string => namespacePrefix('') + key

/** A remote-like tier whose reads answer with what it held when asked, once released. */
class GatedStore extends ScriptedStore {
  gate: Promise<void> | undefined

  override async get(key: string): Promise<Entry | undefined> {
    const held = this.map.get(key)
    if (this.gate !== undefined) await this.gate
    return held
  }
}

function setup() {
  const clock = manualClock()
  const l1 = memoryStore()
  const l2 = new GatedStore('l2')
  const cache = createCache({ tiers: [l1, l2], policy: { ttl: '1h' }, now: clock.now })
  const db = new Map<string, unknown>()
  return { clock, l1, l2, cache, db }
}

describe('cache.write (write-through)', () => {
  it('persists first, then writes every tier', async () => {
    const { l1, l2, cache, db } = setup()
    let cachedDuringPersist: unknown = 'not checked'
    await cache.write('user:1', { name: 'Ada' }, async (value) => {
      cachedDuringPersist = await cache.get('user:1')
      db.set('user:1', value)
    })
    expect(cachedDuringPersist).toBeUndefined()
    expect(db.get('user:1')).toEqual({ name: 'Ada' })
    expect(l1.getSync(stored('user:1'))?.value).toEqual({ name: 'Ada' })
    expect(l2.map.get(stored('user:1'))?.value).toEqual({ name: 'Ada' })
  })

  it('caches nothing when persist fails, and the caller gets its error', async () => {
    const { l1, l2, cache } = setup()
    await cache.set('user:1', 'old')
    await expect(
      cache.write('user:1', 'new', () => {
        throw new Error('unique constraint')
      }),
    ).rejects.toThrow('unique constraint')
    expect(await cache.get('user:1')).toBe('old')
    expect(l2.map.get(stored('user:1'))?.value).toBe('old')
    expect(l1.getSync(stored('user:1'))?.value).toBe('old')
  })

  it('runs writes of one key in call order, so the tiers end with the value the database took last', async () => {
    const { l2, cache, db } = setup()
    const order: string[] = []
    const slow = deferred<void>()
    const first = cache.write('k', 'first', async (v) => {
      order.push(`persist ${v}`)
      await slow.promise
      db.set('k', v)
    })
    const second = cache.write('k', 'second', async (v) => {
      order.push(`persist ${v}`)
      db.set('k', v)
    })
    const other = cache.write('other', 'x', async (v) => void order.push(`persist ${v}`))
    await other
    await flush()
    // The second write of k waits for the first; another key does not.
    expect(order).toEqual(['persist first', 'persist x'])
    slow.resolve()
    await Promise.all([first, second])
    expect(order).toEqual(['persist first', 'persist x', 'persist second'])
    expect(db.get('k')).toBe('second')
    expect(await cache.get('k')).toBe('second')
    expect(l2.map.get(stored('k'))?.value).toBe('second')
  })

  it('a failed write does not stop the next one of the same key', async () => {
    const { cache } = setup()
    const failing = cache.write('k', 'a', async () => {
      throw new Error('deadlock')
    })
    const next = cache.write('k', 'b', () => undefined)
    await expect(failing).rejects.toThrow('deadlock')
    await next
    expect(await cache.get('k')).toBe('b')
  })

  it('a load that read the database before the write does not cache its older value after it', async () => {
    const { cache, db } = setup()
    db.set('k', 'v1')
    const loaderGate = deferred<void>()
    const reading = cache.getOrSet('k', async () => {
      const seen = db.get('k') // reads v1 before the write lands
      await loaderGate.promise
      return seen
    })
    await flush()
    await cache.write('k', 'v2', (v) => void db.set('k', v))
    loaderGate.resolve()
    expect(await reading).toBe('v1') // its caller asked before the write
    await cache.idle()
    expect(await cache.get('k')).toBe('v2')
  })

  it('a getManyOrSet batch that read the database before the write does not cache its older values after it', async () => {
    const { cache, l1, l2, db } = setup()
    db.set('a', 'a1')
    db.set('b', 'b1')
    const loaderGate = deferred<void>()
    const reading = cache.getManyOrSet(['a', 'b'], async (keys) => {
      const seen = keys.map((key) => db.get(key)) // reads a1 and b1 before the write of a lands
      await loaderGate.promise
      return seen
    })
    await flush()
    await cache.write('a', 'a2', (v) => void db.set('a', v))
    loaderGate.resolve()
    expect(await reading).toEqual(['a1', 'b1']) // its caller asked before the write
    await cache.idle()
    expect(await cache.get('a')).toBe('a2')
    expect(await cache.get('b')).toBe('b1') // the other key of the batch is cached as loaded
    expect([(await l1.get(stored('a')))?.value, (await l2.get(stored('a')))?.value]).toEqual(['a2', 'a2'])
  })

  it('a read of a lower tier begun before the write does not copy the older entry into the tier above', async () => {
    const { l1, l2, cache, db } = setup()
    await cache.set('k', 'v1')
    await l1.delete(stored('k')) // only L2 holds v1 now
    const gate = deferred<void>()
    l2.gate = gate.promise
    const reading = cache.get('k')
    await flush()
    l2.gate = undefined
    await cache.write('k', 'v2', (v) => void db.set('k', v))
    gate.resolve()
    expect(await reading).toBe('v1')
    await cache.idle()
    expect(l1.getSync(stored('k'))?.value).toBe('v2')
    expect(await cache.get('k')).toBe('v2')
  })

  it('rejects bad input before persist runs', async () => {
    const { cache } = setup()
    let persisted = 0
    const persist = () => void persisted++
    await expect(cache.write('', 1, persist)).rejects.toThrow(/key/)
    await expect(cache.write('k', 1, persist, { ttl: -1 })).rejects.toThrow(RangeError)
    await expect(cache.write('k', () => 1, persist)).rejects.toThrow(TypeError)
    await expect(cache.write('k', 1, 'nope' as never)).rejects.toThrow(/persist must be a function/)
    expect(persisted).toBe(0)
  })
})

describe('cache.set during a read in flight', () => {
  it('a read asked after set() does not join a read begun before it, even when the value set is no longer servable', async () => {
    const { clock, cache } = setup()
    const first = deferred<string>()
    const reading = cache.getOrSet('k', () => first.promise)
    await flush()
    await cache.set('k', 'v2', { ttl: '1s' })
    clock.advance(2_000) // the entry set is past its ttl: the next read finds nothing to serve
    const after = cache.getOrSet('k', async () => 'v3')
    first.resolve('v1')
    expect(await reading).toBe('v1') // its caller asked before the set
    expect(await after).toBe('v3') // not the older load's v1
  })
})
