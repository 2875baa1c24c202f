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
    expect(() => indexedDbCoordinator(1 as unknown as IndexedDbCoordinatorOptions)).toThrow(/indexedDbCoordinator\(options\) must be an options object/)
    expect(() => indexedDbCoordinator({ dbName: '' })).toThrow(/options\.dbName must be a non-empty string/)
    expect(() => indexedDbCoordinator({ tagTtl: 0 })).toThrow(/options\.tagTtl must be longer than 0 ms/)
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
  it('answers with a Promise until the stored stamps are read, synchronously afterwards', async () => {
    const { dbName } = database()
    const c = coordinator({ dbName, now: clock().now })
    const first = c.tagStamp(['ns:a'])
    expect(first).toBeInstanceOf(Promise)
    expect(await first).toBe(0)
    expect(c.tagStamp(['ns:a'])).toBe(0)
    expect(c.stamp()).toBe(0)
    expect(await c.invalidateTags(['ns:a'])).toBe(START)
    expect(c.tagStamp(['ns:a', 'ns:b'])).toBe(START)
    expect(c.stamp()).toBe(START)
  })

  it('ready() preloads: the first stamp and tagStamp are already synchronous', async () => {
    const { dbName } = database()
    await coordinator({ dbName, now: clock().now }).invalidateTags(['a'])
    const reloaded = coordinator({ dbName, now: clock().now })
    await reloaded.ready()
    expect(reloaded.tagStamp(['a'])).toBe(START)
    expect(reloaded.stamp()).toBe(START)
  })

  it('treats the tags as invalidated at once (+Infinity), before IndexedDB has answered', async () => {
    const { dbName } = database()
    const c = coordinator({ dbName, now: clock().now })
    await c.ready()
    const writing = c.invalidateTags(['a'])
    expect(c.tagStamp(['a', 'b'])).toBe(Number.POSITIVE_INFINITY)
    expect(c.tagStamp(['b'])).toBe(0)
    expect(await writing).toBe(START)
    expect(c.tagStamp(['a'])).toBe(START)
  })

  it('issues increasing stamps even when the clock stands still or goes back', async () => {
    const { dbName } = database()
    const time = clock()
    const c = coordinator({ dbName, now: time.now })
    expect(await c.invalidateTags(['a'])).toBe(START)
    expect(await c.invalidateTags(['b'])).toBe(START + 1)
    time.set(START - 60_000)
    expect(await c.invalidateTags(['a'])).toBe(START + 2)
    expect(c.tagStamp(['a'])).toBe(START + 2)
    expect(c.tagStamp(['b', 'c'])).toBe(START + 1)
    expect(c.tagStamp(['c'])).toBe(0)
  })
})

describe('indexedDbCoordinator: persistence', () => {
  it('a new instance on the same database (a reload) knows every earlier invalidation and the current stamp', async () => {
    const { dbName, raw } = database()
    const before = coordinator({ dbName, now: clock().now })
    await before.invalidateTags(['ns:products', 'ns:cart'])
    expect(await idbGet('ns:products', raw)).toBe(START)
    expect(await idbGet(0, raw)).toBe(START)
    const after = coordinator({ dbName, now: clock().now })
    expect(await after.tagStamp(['ns:products'])).toBe(START)
    expect(after.tagStamp(['ns:cart'])).toBe(START)
    expect(after.tagStamp(['ns:other', 'products'])).toBe(0)
    expect(after.stamp()).toBe(START)
  })

  it('tabs share the stamp: a tab whose clock is behind still issues a later stamp than the other tab did', async () => {
    const { dbName, raw } = database()
    const tabA = coordinator({ dbName, now: clock(START + 500).now })
    const tabB = coordinator({ dbName, now: clock(START).now })
    await Promise.all([tabA.ready(), tabB.ready()])
    expect(await tabA.invalidateTags(['t'])).toBe(START + 500)
    // Tab B, whose clock is 500 ms behind, applies the same invalidation (broadcastInvalidation does this).
    expect(await tabB.invalidateTags(['t'])).toBe(START + 501)
    expect(await idbGet('t', raw)).toBe(START + 501)
    expect(tabB.tagStamp(['t'])).toBe(START + 501)
    expect(await coordinator({ dbName, now: clock().now }).tagStamp(['t'])).toBe(START + 501)
  })

  it('reads records of 0.1 (tag -> time, no stamp record): their times keep their meaning, the stamp starts above them', async () => {
    const { dbName, raw } = database()
    await idbSet('early', START + 100, raw)
    await idbSet('late', START + 900, raw)
    const c = coordinator({ dbName, now: clock().now })
    expect(await c.stamp()).toBe(START + 900)
    expect(c.tagStamp(['early'])).toBe(START + 100)
    expect(await c.invalidateTags(['early'])).toBe(START + 901)
    expect(await idbGet('early', raw)).toBe(START + 901)
    expect(await idbGet('late', raw)).toBe(START + 900)
  })
})

describe('indexedDbCoordinator: tagTtl', () => {
  it('drops records older than tagTtl when a page reads them, from memory and IndexedDB', async () => {
    const { dbName, raw } = database()
    await coordinator({ dbName, now: clock().now }).invalidateTags(['old'])
    await coordinator({ dbName, now: clock(START + 20 * DAY).now }).invalidateTags(['recent'])
    await idbSet('garbage', 'not a time', raw)
    const later = clock(START + 30 * DAY)
    const c = coordinator({ dbName, now: later.now })
    expect(await c.tagStamp(['old'])).toBe(0)
    expect(c.tagStamp(['recent'])).toBe(START + 20 * DAY)
    expect(c.tagStamp(['garbage'])).toBe(0)
    await c.close() // waits for the background prune
    // The current stamp (key 0) is never pruned.
    expect(await idbKeys(raw)).toEqual([0, 'recent'])
  })

  it('keeps a record up to tagTtl, and deletes nothing when none is old', async () => {
    const { dbName, raw } = database()
    await coordinator({ dbName, now: clock().now }).invalidateTags(['a'])
    const time = clock(START + DAY - 1)
    const c = coordinator({ dbName, now: time.now, tagTtl: '1d' })
    const prune = vi.spyOn(c, 'prune')
    expect(await c.tagStamp(['a'])).toBe(START)
    expect(prune).not.toHaveBeenCalled()
    time.advance(1)
    expect(await c.prune()).toBe(1)
    expect(c.tagStamp(['a'])).toBe(0)
    expect(c.stamp()).toBe(START)
    expect(await idbKeys(raw)).toEqual([0])
  })

  it('a long-lived page prunes from invalidateTags, at most once per min(tagTtl, 1 day)', async () => {
    const { dbName, raw } = database()
    const time = clock()
    const c = coordinator({ dbName, now: time.now, tagTtl: '1h' })
    const prune = vi.spyOn(c, 'prune')
    await c.invalidateTags(['a'])
    time.advance(30 * 60_000)
    await c.invalidateTags(['b'])
    expect(prune).not.toHaveBeenCalled()
    time.advance(31 * 60_000)
    await c.invalidateTags(['c'])
    expect(prune).toHaveBeenCalledTimes(1)
    await prune.mock.results[0]?.value
    expect(c.tagStamp(['a'])).toBe(0)
    expect(c.tagStamp(['b'])).toBe(START + 30 * 60_000)
    expect(await idbKeys(raw)).toEqual([0, 'b', 'c'])
  })
})

describe('indexedDbCoordinator: IndexedDB unavailable or failing', () => {
  it('without indexedDB: a memory coordinator from the start, reported once', async () => {
    vi.stubGlobal('indexedDB', undefined)
    const errors: CacheError[] = []
    const c = coordinator({ dbName: 'nowhere', now: clock().now, onError: (e) => errors.push(e) })
    expect(c.tagStamp(['a'])).toBe(0)
    expect(await c.invalidateTags(['a'])).toBe(START)
    expect(await c.invalidateTags(['b'])).toBe(START + 1)
    expect(c.tagStamp(['a', 'b'])).toBe(START + 1)
    expect(c.stamp()).toBe(START + 1)
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
    const c = coordinator({ dbName: 'blocked', now: clock().now, onError: (e) => errors.push(e) })
    const pending = c.tagStamp(['a'])
    expect(pending).toBeInstanceOf(Promise)
    await expect(pending).resolves.toBe(0)
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/load failed: UnknownError: The user denied permission/)])
    expect(c.tagStamp(['a'])).toBe(0)
    await expect(c.invalidateTags(['a'])).resolves.toBe(START)
    expect(c.tagStamp(['a'])).toBe(START)
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
    await expect(c.invalidateTags(['a'])).resolves.toBe(START)
    expect(c.tagStamp(['a'])).toBe(START)
    expect(errors).toHaveLength(1)
    expect(errors[0]).toMatchObject({ code: 'COORDINATOR_ERROR', message: expect.stringMatching(/^indexeddb coordinator invalidateTags failed: AbortError/) })
    vi.restoreAllMocks()
    expect(await coordinator({ dbName, now: clock().now }).tagStamp(['a'])).toBe(0)
  })

  it('reports to console.warn by default, and a throwing onError changes nothing', async () => {
    vi.stubGlobal('indexedDB', undefined)
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    await indexedDbCoordinator().invalidateTags(['a'])
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^tiercache: indexeddb coordinator: IndexedDB is not available/))
    const throwing = indexedDbCoordinator({
      onError: () => {
        throw new Error('boom')
      },
    })
    const stamp = await throwing.invalidateTags(['a'])
    expect(throwing.tagStamp(['a'])).toBe(stamp)
  })

  it('after close() it works in memory only', async () => {
    const { dbName, raw } = database()
    const c = coordinator({ dbName, now: clock().now })
    await c.invalidateTags(['a'])
    await c.close()
    expect(await c.invalidateTags(['b'])).toBe(START + 1)
    expect(c.tagStamp(['a', 'b'])).toBe(START + 1)
    expect(await idbKeys(raw)).toEqual([0, 'a'])
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

  /** A page that stored p:1 ('shoe', tagged products) in IndexedDB, a second ago. */
  async function shoeStored() {
    const { dbName } = database()
    const time = clock()
    const first = page(dbName, time)
    await first.cache.set('p:1', 'shoe', { ttl: '1h', tags: ['products'] })
    await first.cache.idle()
    time.advance(1_000)
    return { dbName, time, first }
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
    expect(await idbGet('shop:products', raw)).toBe(START + 1_000) // tags arrive namespaced; the stamp reads as epoch ms

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
    expect(third.coordinator.tagStamp(['shop:products'])).toBe(START + 1_000)
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

  it('what this page loads or sets while its invalidation is being written outlives it, here and after a reload', async () => {
    const { dbName, time, first } = await shoeStored()
    // Not awaited: the app loads the new data at once (as TanStack Query refetches on the `invalidate` event), while
    // IndexedDB has not yet committed the new stamp.
    const invalidation = first.cache.invalidateTags(['products'])
    const set = first.cache.set('p:1', 'shoe v2', { ttl: '1h', tags: ['products'] })
    let loads = 0
    const loaded = first.cache.getOrSet('p:2', () => `hat v${++loads}`, { ttl: '1h', tags: ['products'] })
    const stamp = await first.coordinator.invalidateTags([]) // the current stamp, for the check below
    await Promise.all([invalidation, set, loaded])
    expect(await first.cache.get('p:1')).toBe('shoe v2')
    expect(await first.cache.getOrSet('p:2', () => `hat v${++loads}`, { ttl: '1h', tags: ['products'] })).toBe('hat v1')
    expect(loads).toBe(1)
    expect(first.coordinator.tagStamp(['shop:products'])).toBeGreaterThan(stamp)
    await first.cache.idle()

    time.advance(1_000)
    const second = page(dbName, time)
    expect(await second.cache.get('p:1')).toBe('shoe v2')
    expect(await second.cache.get('p:2')).toBe('hat v1')
  })

  it('without the invalidation, the same reload serves the entry from IndexedDB', async () => {
    const { dbName, time, first } = await shoeStored()
    const second = page(dbName, time)
    expect(await second.cache.get('p:1')).toBe('shoe')
    expect(second.events.filter((e) => e.type === 'hit').map((e) => e.tier)).toEqual(['indexeddb'])
  })
})
