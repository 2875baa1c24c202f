import { describe, expect, it } from 'vitest'
import { createCache, type Cache } from './cache.js'
import { keyTag, withConsistentWrites } from './consistent-writes.js'
import { memoryCoordinator, type Coordinator } from './coordinator.js'
import { MAX_TAG_LENGTH, type Policy } from './policy.js'
import { memoryStore } from './stores/memory.js'
import { deferred, flush, manualClock, ScriptedStore, scripted } from './test-support/helpers.js'

/**
 * Two "processes": each cache has its own memoryStore L1; they share one L2 (asynchronous, like Redis) and one
 * coordinator (a memoryCoordinator's stamps, without locks so that no miss waits on another's lock), which counts
 * the questions asked of it.
 */
function cluster(policy: Policy = { ttl: '1h' }, covers?: (key: string) => boolean) {
  const clock = manualClock()
  const base = memoryCoordinator({ now: clock.now })
  const asked = { stamp: 0, tagStamp: 0, invalidateTags: 0 }
  const coordinator: Coordinator = scripted(base, 'shared', {
    softRecords: true,
    stamp: () => (asked.stamp++, base.stamp()),
    tagStamp: (tags: readonly string[]) => (asked.tagStamp++, base.tagStamp(tags)),
    invalidateTags: (tags: readonly string[]) => (asked.invalidateTags++, base.invalidateTags(tags)),
  })
  const l2 = new ScriptedStore('l2')
  const processes = (): Cache => {
    const cache = createCache({ tiers: [memoryStore(), l2], coordinator, policy, now: clock.now })
    return covers === undefined ? withConsistentWrites(cache) : withConsistentWrites(cache, { keys: covers })
  }
  const db = new Map<string, string>()
  const load = (key: string) => async () => db.get(key) ?? null
  return { clock, l2, a: processes(), b: processes(), c: processes(), db, load, asked }
}

/** What each cache answers for `key`: from its tiers, or loaded from the database when they hold nothing servable. */
async function served(caches: Cache[], key: string, load: () => Promise<string | null>): Promise<unknown[]> {
  const answers: unknown[] = []
  for (const cache of caches) answers.push(await cache.get(key), await cache.getOrSet(key, load))
  return answers
}

/**
 * A load by `cache` of `key` that has read the database and waits for `gate` before answering (and storing) that row.
 */
async function slowLoad(cache: Cache, db: Map<string, string>, key: string) {
  const gate = deferred<void>()
  const reading = cache.getOrSet(key, async () => {
    const row = db.get(key)
    await gate.promise
    return row
  })
  await flush()
  return { reading, gate }
}

describe('consistentWrites (across processes sharing a coordinator)', () => {
  it('a load that read the old row before another process wrote does not leave it served anywhere', async () => {
    const { a, b, db, load, l2 } = cluster()
    db.set('k', 'old')
    // Process B misses and reads the database before A's write...
    const { reading, gate } = await slowLoad(b, db, 'k')
    // ...A writes the new row, then B's load resolves with the old one and stores it in B's L1 and the shared L2.
    await a.write('k', 'new', (value) => void db.set('k', value as string))
    gate.resolve()
    expect(await reading).toBe('old') // its caller asked before the write
    await Promise.all([a.idle(), b.idle()])
    expect(l2.map.size).toBe(1) // the old entry did land in the shared tier: it is dead on read
    expect(await served([b, a], 'k', load('k'))).toEqual([undefined, 'new', 'new', 'new'])
  })

  it('a getManyOrSet batch that read the old rows before the write does not leave them served', async () => {
    const { a, b, db, load } = cluster()
    db.set('x', 'x1').set('y', 'y1')
    const gate = deferred<void>()
    const reading = b.getManyOrSet(['x', 'y'], async (keys) => {
      const rows = keys.map((key) => db.get(key) ?? null)
      await gate.promise
      return rows
    })
    await flush()
    await a.write('x', 'x2', (value) => void db.set('x', value as string))
    gate.resolve()
    expect(await reading).toEqual(['x1', 'y1'])
    await Promise.all([a.idle(), b.idle()])
    expect(await served([b, a], 'x', load('x'))).toEqual([undefined, 'x2', 'x2', 'x2'])
    // The key nobody wrote keeps its entry.
    expect(await b.get('y')).toBe('y1')
  })

  it('overlapping writers: every process ends with the value the database committed last', async () => {
    const { a, b, c, db, load } = cluster()
    db.set('k', 'old')
    for (const cache of [a, b, c]) expect(await cache.getOrSet('k', load('k'))).toBe('old')
    const aHeld = deferred<void>()
    const cHeld = deferred<void>()
    // A commits first but its write returns last; C commits last and returns first.
    const writeA = a.write('k', 'A', async (value) => {
      db.set('k', value as string)
      await aHeld.promise
    })
    const writeC = c.write('k', 'C', async (value) => {
      await cHeld.promise
      db.set('k', value as string)
    })
    await flush()
    cHeld.resolve()
    await writeC
    aHeld.resolve()
    await writeA
    await Promise.all([a.idle(), b.idle(), c.idle()])
    expect(db.get('k')).toBe('C')
    expect(await served([a, b, c], 'k', load('k'))).toEqual([undefined, 'C', 'C', 'C', 'C', 'C'])
  })

  it('delete: a load begun before another process deleted the key does not bring the old value back', async () => {
    const { a, b, db, load } = cluster()
    db.set('k', 'old')
    const { reading, gate } = await slowLoad(b, db, 'k')
    db.set('k', 'new') // changed by other means; the app deletes the cached copy
    await a.delete('k')
    gate.resolve()
    expect(await reading).toBe('old')
    await Promise.all([a.idle(), b.idle()])
    expect(await served([b, a], 'k', load('k'))).toEqual([undefined, 'new', 'new', 'new'])
  })

  it('expire: a load begun before another process expired the key stores an entry that is not fresh', async () => {
    const { a, b, db, load } = cluster()
    db.set('k', 'old')
    const { reading, gate } = await slowLoad(b, db, 'k')
    db.set('k', 'new')
    await a.expire('k')
    gate.resolve()
    expect(await reading).toBe('old')
    await Promise.all([a.idle(), b.idle()])
    // No swr window: expired means reloaded.
    expect(await served([b, a], 'k', load('k'))).toEqual([undefined, 'new', 'new', 'new'])
  })

  it('expire keeps its soft meaning: within swr the expired value is served stale while one refresh runs', async () => {
    const { a, b, db, load } = cluster({ ttl: '1h', swr: '1m' })
    db.set('k', 'old')
    expect(await b.getOrSet('k', load('k'))).toBe('old')
    db.set('k', 'new')
    await a.expire('k')
    expect(await b.getOrSet('k', load('k'))).toBe('old') // stale, refreshing
    await b.idle()
    expect(await b.getOrSet('k', load('k'))).toBe('new')
  })

  it('a key it does not cover asks the coordinator what it would without it', async () => {
    const run = async (covers: (key: string) => boolean) => {
      const { a, b, db, load, asked } = cluster({ ttl: '1h', tags: ['t'] }, covers)
      db.set('k', 'v1')
      await a.getOrSet('k', load('k'))
      await b.getOrSet('k', load('k'))
      await a.write('k', 'v2', (value) => void db.set('k', value as string))
      await b.set('k', 'v3')
      await b.getManyOrSet(['k', 'j'], async (keys) => keys.map((key) => db.get(key) ?? null))
      await a.expire('k')
      await a.getOrSet('k', load('k'))
      await b.delete('k')
      await a.write('k', 'v4', (value) => void db.set('k', value as string), { ttl: '1m' })
      return asked
    }
    // What main asked before consistentWrites existed (same calls, no strategy): 6 stamps, 2 tag questions.
    const today = { stamp: 6, tagStamp: 2, invalidateTags: 0 }
    expect(await run(() => false)).toEqual(today)
    expect(await run((key) => key.startsWith('user:'))).toEqual(today)
    // Covered, the same calls ask more: the key's tag on reads, its invalidation on writes.
    const covered = await run(() => true)
    expect(covered.invalidateTags).toBe(4)
  })

  it('checks its arguments, and keeps the key tags to itself', async () => {
    const { a } = cluster()
    expect(() => withConsistentWrites({} as Cache)).toThrow(new TypeError('cache must be a Cache (createCache(...)), got object'))
    expect(() => withConsistentWrites(a, { keys: 'user:' as unknown as () => boolean })).toThrow(TypeError)
    expect(() => a.getOrSet('k', () => 1, { ttl: '1m', tags: ['ok', '%key:k'] })).toThrow(
      new RangeError("policy.tags[1] must not start with '%key': the tags of keys under withConsistentWrites start so"),
    )
    await expect(a.write('k', 1, 'persist' as unknown as () => void)).rejects.toThrow(TypeError)
    // Bad input throws before the database is touched.
    let persisted = 0
    await expect(a.write('', 1, () => void persisted++)).rejects.toThrow(new RangeError('key must be 1 to 1023 characters, got 0'))
    await expect(a.write('k', 1, () => void persisted++, { ttl: -1 })).rejects.toThrow(RangeError)
    expect(persisted).toBe(0)
  })

  it('tags that are not an array are refused as the cache refuses them, not replaced by the key tag', async () => {
    const { a } = cluster()
    const bad: Partial<Policy> = { ttl: '1m', tags: 'products' as unknown as string[] }
    const refusal = new TypeError('policy.tags must be an array of strings, got string')
    // The error, thrown or rejected (getOrSet throws bad input synchronously).
    const error = async (call: () => Promise<unknown>) => {
      try {
        await call()
      } catch (thrown) {
        return thrown
      }
      return 'no error'
    }
    expect(await error(() => a.getOrSet('k', () => 1, bad))).toEqual(refusal)
    expect(await error(() => a.set('k', 1, bad))).toEqual(refusal)
    let persisted = 0
    expect(await error(() => a.write('k', 1, () => void persisted++, bad))).toEqual(refusal)
    expect(persisted).toBe(0)
    expect(await error(() => a.getManyOrSet(['k'], () => [1], () => bad))).toBeInstanceOf(TypeError)
    expect(await a.get('k')).toBeUndefined()
  })

  it('delete and expire of a bad key throw before the coordinator records anything', async () => {
    const { a, asked } = cluster()
    await expect(a.delete('')).rejects.toThrow(new RangeError('key must be 1 to 1023 characters, got 0'))
    await expect(a.expire('')).rejects.toThrow(new RangeError('key must be 1 to 1023 characters, got 0'))
    await expect(a.delete('x'.repeat(1024))).rejects.toThrow(RangeError)
    expect(asked.invalidateTags).toBe(0)
  })

  it('takes the keys the cache takes: a custom maxKeyLength above the default', async () => {
    const clock = manualClock()
    const coordinator = memoryCoordinator({ now: clock.now })
    const cache = withConsistentWrites(createCache({ tiers: [memoryStore()], coordinator, policy: { ttl: '1h' }, maxKeyLength: 4096, now: clock.now }))
    const key = 'k'.repeat(2000)
    const db = new Map<string, number>()
    expect(await cache.getOrSet(key, () => 1)).toBe(1)
    await cache.write(key, 2, (value) => void db.set(key, value))
    expect(db.get(key)).toBe(2)
    await cache.expire(key)
    await cache.delete(key)
    expect(await cache.getOrSet(key, () => db.get(key))).toBe(2)
    let persisted = 0
    await expect(cache.write('k'.repeat(4096), 3, () => void persisted++)).rejects.toThrow(new RangeError('key must be 1 to 4095 characters, got 4096'))
    expect(persisted).toBe(0)
  })

  it('refuses to wrap a cache it returned, at once rather than on every covered read', () => {
    const { a } = cluster()
    expect(() => withConsistentWrites(a)).toThrow(
      new TypeError('cache must not be a withConsistentWrites cache already: wrap the cache createCache made once'),
    )
  })

  it('writes of one key through one process run their persists in call order, other keys alongside', async () => {
    const { a, db } = cluster()
    const order: string[] = []
    const slow = deferred<void>()
    const first = a.write('k', 'first', async (value) => {
      order.push(`persist ${value}`)
      await slow.promise
      db.set('k', value)
    })
    const second = a.write('k', 'second', async (value) => {
      order.push(`persist ${value}`)
      db.set('k', value)
    })
    await a.write('other', 'x', async (value) => void order.push(`persist ${value}`))
    await flush()
    expect(order).toEqual(['persist first', 'persist x'])
    slow.resolve()
    await Promise.all([first, second])
    expect(order).toEqual(['persist first', 'persist x', 'persist second'])
    expect(await a.getOrSet('k', async () => db.get('k') ?? null)).toBe('second')
  })

  it('a key too long for a tag gets a hashed one, distinct per key', () => {
    const long = 'x'.repeat(MAX_TAG_LENGTH)
    expect(keyTag('user:1')).toBe('%key:user:1')
    expect(keyTag(long).length).toBeLessThanOrEqual(MAX_TAG_LENGTH)
    expect(keyTag(long)).not.toBe(keyTag(`${long}y`))
  })
})
