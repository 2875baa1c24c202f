import { CacheError, createCache, memoryStore, type CacheEvent, type Coordinator, type ReadStatus } from '@tiercache/core'
import { createStore, get as idbGet, keys as idbKeys, set as idbSet } from 'idb-keyval'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { indexedDbCoordinator, type IndexedDbCoordinator, type IndexedDbCoordinatorOptions } from './indexeddb-coordinator.js'
import { indexedDbStore, type IndexedDbStore } from './indexeddb-store.js'

const START = 1_700_000_000_000
const DAY = 86_400_000

function clock(start = START) {
  let t = start
  return { now: () => t, advance: (ms: number) => void (t += ms), set: (at: number) => void (t = at) }
}

/** A fresh app database name, and the raw idb-keyval store where its tag times land. */
function database() {
  const dbName = `coord-${crypto.randomUUID()}`
  return { dbName, raw: createStore(`${dbName}-tags`, 'tags') }
}

const opened: (IndexedDbCoordinator | IndexedDbStore)[] = []
function coordinator(options: IndexedDbCoordinatorOptions): IndexedDbCoordinator {
  const made = indexedDbCoordinator({ onError: unexpected, ...options })
  opened.push(made)
  return made
}

function unexpected(error: CacheError): void {
  throw new Error(`unexpected onError: ${error.message}`)
}

afterEach(async () => {
  vi.restoreAllMocks()
  vi.unstubAllGlobals()
  await Promise.all(opened.splice(0).map((c) => c.close()))
})

describe('indexedDbCoordinator: options', () => {
  it('validates once, naming the option and the rule', () => {
    expect(() => indexedDbCoordinator(1 as unknown as IndexedDbCoordinatorOptions)).toThrow(/indexedDbCoordinator\(options\) must be an object/)
    expect(() => indexedDbCoordinator({ dbName: '' })).toThrow(/options\.dbName must be a non-empty string/)
    expect(() => indexedDbCoordinator({ tagTtl: 0 })).toThrow(/options\.tagTtl must be greater than 0/)
    expect(() => indexedDbCoordinator({ tagTtl: 'soon' as never })).toThrow(/options\.tagTtl/)
    expect(() => indexedDbCoordinator({ now: 1 as unknown as () => number })).toThrow(/options\.now must be a function/)
    expect(() => indexedDbCoordinator({ onError: 'log' as unknown as () => void })).toThrow(/options\.onError must be a function/)
  })

  it('keeps tag times in a database of its own beside the app one, with no locks', () => {
    const c = coordinator({ dbName: 'my-app', tagTtl: '7d' })
    expect(c).toMatchObject({ name: 'indexeddb', databaseName: 'my-app-tags', tagTtl: 7 * DAY })
    const asCoordinator: Coordinator = c
    expect(asCoordinator.lock).toBeUndefined()
    expect(coordinator({}).databaseName).toBe('tiercache-tags')
  })
})

describe('indexedDbCoordinator: answers', () => {
  it('answers with a Promise until the stored times are read, synchronously afterwards', async () => {
    const { dbName } = database()
    const c = coordinator({ dbName, now: clock().now })
    const first = c.invalidatedAt(['ns:a'])
    expect(first).toBeInstanceOf(Promise)
    expect(await first).toBe(0)
    expect(c.invalidatedAt(['ns:a'])).toBe(0)
    await c.invalidateTags(['ns:a'], START)
    expect(c.invalidatedAt(['ns:a', 'ns:b'])).toBe(START)
  })

  it('ready() preloads: the first invalidatedAt is already synchronous', async () => {
    const { dbName } = database()
    await coordinator({ dbName, now: clock().now }).invalidateTags(['a'], START)
    const reloaded = coordinator({ dbName, now: clock().now })
    await reloaded.ready()
    expect(reloaded.invalidatedAt(['a'])).toBe(START)
  })

  it('records an invalidation in memory at once, before IndexedDB has answered', async () => {
    const { dbName } = database()
    const c = coordinator({ dbName, now: clock().now })
    await c.ready()
    const writing = c.invalidateTags(['a'], START + 5)
    expect(c.invalidatedAt(['a'])).toBe(START + 5)
    await writing
  })

  it('answers the latest time of any of the tags, and only ever raises a time', async () => {
    const { dbName } = database()
    const c = coordinator({ dbName, now: clock().now })
    await c.invalidateTags(['a'], START + 200)
    await c.invalidateTags(['b'], START + 100)
    await c.invalidateTags(['a'], START + 50)
    expect(c.invalidatedAt(['a'])).toBe(START + 200)
    expect(c.invalidatedAt(['b', 'a', 'c'])).toBe(START + 200)
    expect(c.invalidatedAt(['b'])).toBe(START + 100)
    expect(c.invalidatedAt(['c'])).toBe(0)
  })
})

describe('indexedDbCoordinator: persistence', () => {
  it('a new instance on the same database (a reload) knows every earlier invalidation', async () => {
    const { dbName, raw } = database()
    const before = coordinator({ dbName, now: clock().now })
    await before.invalidateTags(['ns:products', 'ns:cart'], START + 10)
    expect(await idbGet('ns:products', raw)).toBe(START + 10)
    const after = coordinator({ dbName, now: clock().now })
    expect(await after.invalidatedAt(['ns:products'])).toBe(START + 10)
    expect(after.invalidatedAt(['ns:cart'])).toBe(START + 10)
    expect(after.invalidatedAt(['ns:other', 'products'])).toBe(0)
  })

  it('keeps the later time in IndexedDB when another tab wrote one since (max of stored and new)', async () => {
    const { dbName, raw } = database()
    const tabA = coordinator({ dbName, now: clock().now })
    const tabB = coordinator({ dbName, now: clock().now })
    await Promise.all([tabA.ready(), tabB.ready()])
    await tabA.invalidateTags(['t'], START + 500)
    // Tab B, whose clock is behind, applies the same invalidation (broadcastInvalidation does this).
    await tabB.invalidateTags(['t'], START + 400)
    expect(await idbGet('t', raw)).toBe(START + 500)
    expect(tabB.invalidatedAt(['t'])).toBe(START + 400)
    await tabB.invalidateTags(['t'], START + 600)
    expect(await idbGet('t', raw)).toBe(START + 600)
    expect(await coordinator({ dbName, now: clock().now }).invalidatedAt(['t'])).toBe(START + 600)
  })

  it('merges what it reads with what this page recorded before the read finished, keeping the later', async () => {
    const { dbName, raw } = database()
    await idbSet('early', START + 100, raw)
    await idbSet('late', START + 900, raw)
    const c = coordinator({ dbName, now: clock().now })
    const writes = [c.invalidateTags(['early'], START + 300), c.invalidateTags(['late'], START + 300)]
    await c.ready()
    await Promise.all(writes)
    expect(c.invalidatedAt(['early'])).toBe(START + 300)
    expect(c.invalidatedAt(['late'])).toBe(START + 900)
    expect(await idbGet('early', raw)).toBe(START + 300)
    expect(await idbGet('late', raw)).toBe(START + 900)
  })
})

describe('indexedDbCoordinator: tagTtl', () => {
  it('drops records older than tagTtl when a page reads them, from memory and IndexedDB', async () => {
    const { dbName, raw } = database()
    await coordinator({ dbName, now: clock().now }).invalidateTags(['old'], START)
    await coordinator({ dbName, now: clock().now }).invalidateTags(['recent'], START + 20 * DAY)
    await idbSet('garbage', 'not a time', raw)
    const later = clock(START + 30 * DAY)
    const c = coordinator({ dbName, now: later.now })
    expect(await c.invalidatedAt(['old'])).toBe(0)
    expect(c.invalidatedAt(['recent'])).toBe(START + 20 * DAY)
    expect(c.invalidatedAt(['garbage'])).toBe(0)
    await c.close() // waits for the background prune
    expect(await idbKeys(raw)).toEqual(['recent'])
  })

  it('keeps a record up to tagTtl, and deletes nothing when none is old', async () => {
    const { dbName, raw } = database()
    await coordinator({ dbName, now: clock().now }).invalidateTags(['a'], START)
    const time = clock(START + DAY - 1)
    const c = coordinator({ dbName, now: time.now, tagTtl: '1d' })
    const prune = vi.spyOn(c, 'prune')
    expect(await c.invalidatedAt(['a'])).toBe(START)
    expect(prune).not.toHaveBeenCalled()
    time.advance(1)
    expect(await c.prune()).toBe(1)
    expect(c.invalidatedAt(['a'])).toBe(0)
    expect(await idbKeys(raw)).toEqual([])
  })

  it('a long-lived page prunes from invalidateTags, at most once per min(tagTtl, 1 day)', async () => {
    const { dbName, raw } = database()
    const time = clock()
    const c = coordinator({ dbName, now: time.now, tagTtl: '1h' })
    const prune = vi.spyOn(c, 'prune')
    await c.invalidateTags(['a'], START)
    time.advance(30 * 60_000)
    await c.invalidateTags(['b'], time.now())
    expect(prune).not.toHaveBeenCalled()
    time.advance(31 * 60_000)
    await c.invalidateTags(['c'], time.now())
    expect(prune).toHaveBeenCalledTimes(1)
    await prune.mock.results[0]?.value
    expect(c.invalidatedAt(['a'])).toBe(0)
    expect(c.invalidatedAt(['b'])).toBe(START + 30 * 60_000)
    expect((await idbKeys(raw)).sort()).toEqual(['b', 'c'])
  })
})

describe('indexedDbCoordinator: IndexedDB unavailable or failing', () => {
  it('without indexedDB: a memory coordinator from the start, reported once', async () => {
    vi.stubGlobal('indexedDB', undefined)
    const errors: CacheError[] = []
    const c = coordinator({ dbName: 'nowhere', onError: (e) => errors.push(e) })
    expect(c.invalidatedAt(['a'])).toBe(0)
    await c.invalidateTags(['a'], START)
    await c.invalidateTags(['b'], START + 1)
    expect(c.invalidatedAt(['a', 'b'])).toBe(START + 1)
    expect(await c.prune()).toBe(0)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(CacheError)
    expect(errors[0]).toMatchObject({ code: 'COORDINATOR_ERROR', message: expect.stringMatching(/IndexedDB is not available/) })
  })

  it('when opening fails: answers from what this page recorded, never throws, reports', async () => {
    vi.stubGlobal('indexedDB', {
      // Like a blocked-storage profile: open fails asynchronously.
      open() {
        const req: { error: DOMException; onerror?: () => void } = {
          error: new DOMException('The user denied permission to access the database.', 'UnknownError'),
        }
        setTimeout(() => req.onerror?.(), 0)
        return req
      },
    })
    const errors: CacheError[] = []
    const c = coordinator({ dbName: 'blocked', onError: (e) => errors.push(e) })
    const pending = c.invalidatedAt(['a'])
    expect(pending).toBeInstanceOf(Promise)
    await expect(pending).resolves.toBe(0)
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/load failed: UnknownError: The user denied permission/)])
    expect(c.invalidatedAt(['a'])).toBe(0)
    await expect(c.invalidateTags(['a'], START)).resolves.toBeUndefined()
    expect(c.invalidatedAt(['a'])).toBe(START)
    expect(errors.map((e) => e.code)).toEqual(['COORDINATOR_ERROR', 'COORDINATOR_ERROR'])
    expect(errors[1]?.message).toMatch(/invalidateTags failed/)
  })

  it('a failed read does not make tagged entries dead: the cache serves them, the failure is reported', async () => {
    const { dbName } = database()
    // Something else made `<dbName>-tags` with another object store: every transaction fails with NotFoundError.
    await idbSet('x', 1, createStore(`${dbName}-tags`, 'other'))
    const errors: CacheError[] = []
    const events: CacheEvent[] = []
    const time = clock()
    const store = indexedDbStore({ dbName, now: time.now })
    opened.push(store)
    const cache = createCache({
      tiers: [memoryStore(), store],
      coordinator: coordinator({ dbName, now: time.now, onError: (e) => errors.push(e) }),
      now: time.now,
      onEvent: (e) => e.type === 'error' && events.push(e),
    })
    await cache.set('p:1', 'shoe', { ttl: '1h', tags: ['products'] })
    await cache.idle()
    expect(await cache.get('p:1')).toBe('shoe')
    expect(errors[0]?.message).toMatch(/NotFoundError.*has no object store "tags"/)
    expect(events).toEqual([])
    // What this page invalidates still holds.
    time.advance(1)
    await cache.invalidateTags(['products'])
    expect(await cache.get('p:1')).toBeUndefined()
  })

  it('a failed write keeps the invalidation in this page, reports it; a later page load does not know it', async () => {
    const { dbName } = database()
    const errors: CacheError[] = []
    const c = coordinator({ dbName, now: clock().now, onError: (e) => errors.push(e) })
    await c.ready()
    // Thrown inside the read's success callback, the put aborts the transaction (a real quota error does too).
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('', 'QuotaExceededError')
    })
    await expect(c.invalidateTags(['a'], START)).resolves.toBeUndefined()
    expect(c.invalidatedAt(['a'])).toBe(START)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ code: 'COORDINATOR_ERROR', message: expect.stringMatching(/^indexeddb coordinator invalidateTags failed: AbortError/) })
    vi.restoreAllMocks()
    expect(await coordinator({ dbName, now: clock().now }).invalidatedAt(['a'])).toBe(0)
  })

  it('reports to console.warn by default, and a throwing onError changes nothing', async () => {
    vi.stubGlobal('indexedDB', undefined)
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    await indexedDbCoordinator().invalidateTags(['a'], START)
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^tiercache: indexeddb coordinator: IndexedDB is not available/))
    const throwing = indexedDbCoordinator({
      onError: () => {
        throw new Error('boom')
      },
    })
    await expect(throwing.invalidateTags(['a'], START)).resolves.toBeUndefined()
    expect(throwing.invalidatedAt(['a'])).toBe(START)
  })

  it('after close() it works in memory only', async () => {
    const { dbName, raw } = database()
    const c = coordinator({ dbName, now: clock().now })
    await c.invalidateTags(['a'], START)
    await c.close()
    await c.invalidateTags(['b'], START + 1)
    expect(c.invalidatedAt(['a', 'b'])).toBe(START + 1)
    expect(await idbKeys(raw)).toEqual(['a'])
  })
})

describe('indexedDbCoordinator under createCache', () => {
  /** What a page builds on load: a new memory tier, new IndexedDB store and coordinator on the same databases. */
  function page(dbName: string, time: ReturnType<typeof clock>) {
    const store = indexedDbStore({ dbName, now: time.now })
    const c = coordinator({ dbName, now: time.now })
    opened.push(store)
    const events: CacheEvent[] = []
    const cache = createCache({
      tiers: [memoryStore(), store],
      coordinator: c,
      now: time.now,
      namespace: 'shop',
      onEvent: (e) => events.push(e),
    })
    return { cache, coordinator: c, events }
  }

  it('an entry whose tag was invalidated before a reload is not served by IndexedDB after it', async () => {
    const { dbName, raw } = database()
    const time = clock()
    const first = page(dbName, time)
    await first.cache.set('p:1', 'shoe', { ttl: '1h', tags: ['products'] })
    await first.cache.set('p:2', 'hat', { ttl: '1h', tags: ['products'] })
    await first.cache.set('note', 'kept', { ttl: '1h', tags: ['misc'] })
    await first.cache.idle()
    time.advance(1_000)
    await first.cache.invalidateTags(['products'])
    expect(await idbGet('shop:products', raw)).toBe(START + 1_000) // tags arrive namespaced

    // The dead entries are still in the IndexedDB tier (core deletes one only once it read it as dead): only the
    // persisted tag time can stop them.
    const entries = createStore(dbName, 'entries')
    expect(await idbGet('shop:p:1', entries)).toBeDefined()
    expect(await idbGet('shop:p:2', entries)).toBeDefined()

    time.advance(1_000)
    const second = page(dbName, time)
    expect(await second.cache.get('p:1')).toBeUndefined()
    let loads = 0
    expect(await second.cache.getOrSet('p:2', () => `hat v${++loads}`, { ttl: '1h', tags: ['products'] })).toBe('hat v1')
    // The untagged-by-the-invalidation entry is still answered by IndexedDB.
    expect(await second.cache.get('note')).toBe('kept')
    const hits = second.events.filter((e) => e.type === 'hit')
    expect(hits.map((e) => [e.key, e.tier])).toEqual([['note', 'indexeddb']])
    await second.cache.idle()

    // Entries written after the invalidation live on: a third page load serves the reloaded one from IndexedDB.
    time.advance(1_000)
    const third = page(dbName, time)
    expect(await third.cache.getOrSet('p:2', () => `hat v${++loads}`, { ttl: '1h', tags: ['products'] })).toBe('hat v1')
    expect(loads).toBe(1)
    // Once loaded, a memory hit of a tagged entry is answered without waiting for IndexedDB.
    expect(third.coordinator.invalidatedAt(['shop:products'])).toBe(START + 1_000)
  })

  it('a soft invalidation before a reload: IndexedDB serves the entry stale while one load refreshes it', async () => {
    const { dbName, raw } = database()
    const time = clock()
    const first = page(dbName, time)
    await first.cache.set('p:1', 'shoe', { ttl: '1h', swr: '1h', tags: ['products'] })
    await first.cache.idle()
    time.advance(1_000)
    await first.cache.invalidateTags(['products'], { mode: 'soft' })
    // Kept as the record of its own name, beside the hard ones.
    expect(await idbGet('%soft:shop:products', raw)).toBe(START + 1_000)
    expect(await idbGet('shop:products', raw)).toBeUndefined()

    time.advance(1_000)
    const second = page(dbName, time)
    let loads = 0
    const status: ReadStatus = {}
    expect(await second.cache.getOrSet('p:1', () => `shoe v${++loads}`, { ttl: '1h', swr: '1h', tags: ['products'] }, { status })).toBe('shoe')
    expect(status).toMatchObject({ state: 'stale', tierName: 'indexeddb' })
    await second.cache.idle()
    expect(loads).toBe(1)
    const after: ReadStatus = {}
    expect(await second.cache.getOrSet('p:1', () => `shoe v${++loads}`, { ttl: '1h', swr: '1h', tags: ['products'] }, { status: after })).toBe('shoe v1')
    expect(after.state).toBe('fresh')
  })

  it('without the invalidation, the same reload serves the entry from IndexedDB', async () => {
    const { dbName } = database()
    const time = clock()
    const first = page(dbName, time)
    await first.cache.set('p:1', 'shoe', { ttl: '1h', tags: ['products'] })
    await first.cache.idle()
    time.advance(1_000)
    const second = page(dbName, time)
    expect(await second.cache.get('p:1')).toBe('shoe')
    expect(second.events.filter((e) => e.type === 'hit').map((e) => e.tier)).toEqual(['indexeddb'])
  })
})
