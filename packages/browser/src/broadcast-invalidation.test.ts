// Two "tabs" in one Node process: two caches with their own memory tier over one (fake) IndexedDB database, and
// Node's BroadcastChannel, which like the browser's delivers to every other channel object of the same name.
import { createCache, memoryCoordinator, memoryStore, type Cache, type Coordinator, type Entry, type Store } from '@tiercache/core'
import type { MemoryStore } from '@tiercache/core/store'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { broadcastInvalidation, type BroadcastHandle } from './broadcast-invalidation.js'
import { indexedDbCoordinator } from './indexeddb-coordinator.js'
import { indexedDbStore } from './indexeddb-store.js'

const open: { close(): unknown }[] = []
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close()
})

function tabs(options: { namespace?: string; channel?: string } = {}) {
  const dbName = `tabs-${crypto.randomUUID()}`
  const channel = options.channel ?? `test-${crypto.randomUUID()}`
  const tab = () => {
    const memory = memoryStore()
    const idb = indexedDbStore({ dbName })
    open.push(idb)
    const cache = createCache({ tiers: [memory, idb], namespace: options.namespace, policy: { ttl: '1m' } })
    const sync = broadcastInvalidation(cache, { channel })
    open.push(sync)
    return { cache, memory, idb, sync }
  }
  const spy = new BroadcastChannel(channel)
  const heard: unknown[] = []
  spy.onmessage = (e) => {
    if (!isMarker(e.data)) heard.push(e.data)
  }
  open.push(spy)
  return { a: tab(), b: tab(), heard, channel }
}

const isMarker = (data: unknown) => typeof data === 'object' && data !== null && 'marker' in data

/**
 * Resolves when what was posted on the channel before the call has been delivered and handled: a marker posted
 * through the channel comes back, twice, so that a message a handle sends while handling another is also out.
 * Checks that something did not happen wait for this instead of a sleep.
 */
async function drained(channel: string) {
  for (let round = 0; round < 2; round++) {
    const marker = crypto.randomUUID()
    const listener = new BroadcastChannel(channel)
    const back = new Promise<void>((resolve) => {
      listener.onmessage = (e) => {
        if (isMarker(e.data) && (e.data as { marker: string }).marker === marker) resolve()
      }
    })
    const sender = new BroadcastChannel(channel)
    sender.postMessage({ marker })
    sender.close()
    await back
    listener.close()
  }
}

describe('broadcastInvalidation', () => {
  it('a set in one tab reaches the memory tier of the other', async () => {
    const { a, b } = tabs()
    await a.cache.set('user:1', { name: 'Ada' })
    await vi.waitFor(() => expect(b.memory.peek(':user:1')?.value).toEqual({ name: 'Ada' }), { timeout: 10_000 })
  })

  it('a fresh load in one tab fills the other', async () => {
    const { a, b } = tabs()
    await a.cache.getOrSet('k', () => 'loaded')
    await vi.waitFor(() => expect(b.memory.peek(':k')?.value).toBe('loaded'), { timeout: 10_000 })
    const loader = vi.fn(() => 'again')
    expect(await b.cache.getOrSet('k', loader)).toBe('loaded')
    expect(loader).not.toHaveBeenCalled()
  })

  it("a delete in one tab removes the key from the other's memory tier", async () => {
    const { a, b } = tabs()
    await b.cache.set('k', 'v')
    await vi.waitFor(() => expect(a.memory.peek(':k')).toBeDefined(), { timeout: 10_000 })
    await a.cache.delete('k')
    await vi.waitFor(() => expect(b.memory.peek(':k')).toBeUndefined(), { timeout: 10_000 })
    expect(await b.cache.get('k')).toBeUndefined()
  })

  it('invalidateTags in one tab stops every tier of the other from serving the tags, without echo', async () => {
    const { a, b, heard, channel } = tabs()
    await b.cache.set('p1', 'product', { ttl: '1m', tags: ['products'] })
    await b.cache.idle()
    await vi.waitFor(() => expect(heard).toHaveLength(1), { timeout: 10_000 })
    await a.cache.invalidateTags(['products'])
    await vi.waitFor(() => expect(heard).toHaveLength(2), { timeout: 10_000 })
    // B applied it: its memory and its IndexedDB entry are dead to it now.
    await vi.waitFor(async () => expect(await b.cache.get('p1')).toBeUndefined(), { timeout: 10_000 })
    expect(await b.cache.getOrSet('p1', () => 'reloaded', { ttl: '1m', tags: ['products'] })).toBe('reloaded')
    await b.cache.idle()
    await vi.waitFor(() => expect(heard).toHaveLength(3), { timeout: 10_000 })
    await drained(channel)
    // set, invalidate, the reload's write: B re-broadcast nothing it applied.
    expect(heard.map((m) => (m as { op: string }).op)).toEqual(['write', 'invalidate', 'write'])
  })

  it("a relayed invalidation adopts the sender's stamp (indexedDbCoordinator): what the sender loaded right after it stays alive in every tab", async () => {
    const dbName = `tabs-${crypto.randomUUID()}`
    const channel = `test-${crypto.randomUUID()}`
    const tab = () => {
      const coordinator = indexedDbCoordinator({ dbName })
      const idb = indexedDbStore({ dbName })
      open.push(idb, coordinator)
      const cache = createCache({ tiers: [memoryStore(), idb], coordinator, policy: { ttl: '1m', tags: ['products'] } })
      open.push(broadcastInvalidation(cache, { channel }))
      return { cache, coordinator }
    }
    const heard: { op: string; stamp?: number }[] = []
    const spy = new BroadcastChannel(channel)
    spy.onmessage = (e) => heard.push(e.data)
    open.push(spy)
    const a = tab()
    const b = tab()
    await Promise.all([a.coordinator.ready(), b.coordinator.ready()])
    await a.cache.invalidateTags(['products'])
    const sent = a.coordinator.stamp() as number
    // The sender's product, loaded right after its invalidation (so it carries the sender's stamp).
    expect(await a.cache.getOrSet('p', () => 'after')).toBe('after')
    await a.cache.idle()
    // B applied the invalidation: it knows the stamp now, the sender's own, not a later one of its own.
    await vi.waitFor(() => expect(b.coordinator.tagStamp([':products'])).toBeGreaterThanOrEqual(sent), { timeout: 10_000 })
    expect(b.coordinator.tagStamp([':products'])).toBe(sent)
    expect(heard.find((m) => m.op === 'invalidate')?.stamp).toBe(sent)
    const loader = vi.fn(() => 'reloaded')
    expect(await b.cache.getOrSet('p', loader)).toBe('after')
    // A tab opened now (a reload) reads the stamps from IndexedDB: the product is alive there too.
    const c = tab()
    expect(await c.cache.getOrSet('p', loader)).toBe('after')
    expect(loader).not.toHaveBeenCalled()
  })

  it('a soft invalidation reaches the other tab as soft, and an expire as an expire', async () => {
    const { a, b, heard } = tabs()
    await b.cache.set('p1', 'product', { ttl: '1m', swr: '1m', tags: ['products'] })
    await b.cache.set('p2', 'other', { ttl: '1m', swr: '1m' })
    await b.cache.idle()
    await vi.waitFor(() => expect(heard).toHaveLength(2), { timeout: 10_000 })
    await new Promise((resolve) => setTimeout(resolve, 2))
    await a.cache.invalidateTags(['products'], { mode: 'soft' })
    await a.cache.expire('p2')
    await vi.waitFor(() => expect(heard).toHaveLength(4), { timeout: 10_000 })
    expect(heard.slice(2)).toEqual([
      expect.objectContaining({ op: 'invalidate', tags: ['products'], mode: 'soft' }),
      expect.objectContaining({ op: 'expire', key: 'p2' }),
    ])
    // B serves both stale (not gone): the old values answer while a refresh runs.
    await vi.waitFor(() => expect(b.memory.peek(':p2')?.freshUntil).toBeLessThanOrEqual(Date.now()), { timeout: 10_000 })
    const p1 = {}
    expect(await b.cache.getOrSet('p1', () => 'reloaded', undefined, { status: p1 })).toBe('product')
    expect(p1).toMatchObject({ state: 'stale' })
    const p2 = {}
    expect(await b.cache.getOrSet('p2', () => 'reloaded', undefined, { status: p2 })).toBe('other')
    expect(p2).toMatchObject({ state: 'stale' })
    await b.cache.idle()
  })

  it('a tab whose coordinator keeps no soft records applies a soft invalidation as a hard one, without echo', async () => {
    const { a, heard, channel } = tabs()
    const hardOnly: Coordinator = { ...memoryCoordinator(), name: 'hard-only', softRecords: false }
    const memory = memoryStore()
    const c = createCache({ tiers: [memory], coordinator: hardOnly, policy: { ttl: '1m', swr: '1m' } })
    open.push(broadcastInvalidation(c, { channel }))
    await c.set('p1', 'product', { tags: ['products'] })
    await vi.waitFor(() => expect(heard).toHaveLength(1), { timeout: 10_000 })
    await new Promise((resolve) => setTimeout(resolve, 2))
    await a.cache.invalidateTags(['products'], { mode: 'soft' })
    await vi.waitFor(() => expect(heard).toHaveLength(2), { timeout: 10_000 })
    await vi.waitFor(async () => expect(await c.get('p1')).toBeUndefined(), { timeout: 10_000 })
    await drained(channel)
    expect(heard).toHaveLength(2)
  })

  it('does not apply or re-send what a handle sent itself', async () => {
    const { a, heard, channel } = tabs()
    const onInvalidate = vi.spyOn(a.cache, 'invalidateTags')
    await a.cache.invalidateTags(['t'])
    await vi.waitFor(() => expect(heard).toHaveLength(1), { timeout: 10_000 })
    await drained(channel)
    expect(onInvalidate).toHaveBeenCalledTimes(1)
    expect(heard).toHaveLength(1)
  })

  it('two handles on one cache in one tab do not bounce a message between them', async () => {
    const { a, b, heard, channel } = tabs()
    const second = broadcastInvalidation(a.cache, { channel })
    open.push(second)
    await b.cache.invalidateTags(['x'])
    await vi.waitFor(() => expect(heard).toHaveLength(1), { timeout: 10_000 })
    await drained(channel)
    expect(heard).toHaveLength(1)
  })

  it('ignores caches of another namespace and messages that are not its own kind', async () => {
    const channel = `ns-${crypto.randomUUID()}`
    const one = tabs({ namespace: 'v1', channel })
    const other = createCache({ tiers: [memoryStore()], namespace: 'v2', policy: { ttl: '1m' } })
    const otherMemory = other.tiers[0] as MemoryStore
    open.push(broadcastInvalidation(other, { channel }))
    const junk = new BroadcastChannel(channel)
    junk.postMessage('hello')
    junk.postMessage({ tiercache: 1, from: 'x', ns: 'v1', op: 'write', key: 'v1:k', entry: { v: 99 } })
    junk.close()
    await one.a.cache.set('k', 'v')
    await vi.waitFor(() => expect(one.b.memory.peek('v1:k')?.value).toBe('v'), { timeout: 10_000 })
    expect(otherMemory.size).toBe(0)
  })

  it("caps a received entry with the local tier's maxTtl", async () => {
    const channel = `cap-${crypto.randomUUID()}`
    let t = 1_700_000_000_000
    const now = () => t
    const a = createCache({ tiers: [memoryStore()], now, policy: { ttl: '1h' } })
    const small = memoryStore({ maxTtl: '10s', now })
    const b = createCache({ tiers: [small], now, policy: { ttl: '1h' } })
    open.push(broadcastInvalidation(a, { channel, now }), broadcastInvalidation(b, { channel, now }))
    await a.set('k', 'v')
    await vi.waitFor(() => expect(small.peek(':k')?.freshUntil).toBe(t + 10_000), { timeout: 10_000 })
    t += 10_001
    expect(small.peek(':k')).toBeUndefined()
  })

  it('close() stops both directions and can be called twice', async () => {
    const { a, b, heard, channel } = tabs()
    a.sync.close()
    a.sync.close()
    await a.cache.set('k', 'from a')
    await b.cache.set('j', 'from b')
    await vi.waitFor(() => expect(heard).toHaveLength(1), { timeout: 10_000 })
    await drained(channel)
    expect(b.memory.peek(':k')).toBeUndefined()
    expect(a.memory.peek(':j')).toBeUndefined()
  })

  it('is an inactive no-op where BroadcastChannel does not exist', async () => {
    vi.stubGlobal('BroadcastChannel', undefined)
    try {
      const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' } })
      const sync: BroadcastHandle = broadcastInvalidation(cache)
      expect(sync.active).toBe(false)
      await cache.set('k', 'v')
      sync.close()
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('validates its arguments', () => {
    expect(() => broadcastInvalidation({} as Cache)).toThrow(/broadcastInvalidation\(cache\) needs a cache from createCache/)
    const cache = createCache({ tiers: [memoryStore()] })
    expect(() => broadcastInvalidation(cache, { channel: '' })).toThrow(/options\.channel must be a non-empty string/)
    expect(() => broadcastInvalidation(cache, { local: 'memory' as unknown as () => boolean })).toThrow(/options\.local must be a function/)
  })

  it("tells any tier of the other tab's memory (a store with getSync), not only a memoryStore", async () => {
    const channel = `sync-${crypto.randomUUID()}`
    const map = new Map<string, Entry>()
    const own: Store = {
      name: 'own-sync',
      get: async (key) => map.get(key),
      set: async (key, entry) => void map.set(key, entry),
      delete: async (key) => void map.delete(key),
      getSync: (key) => map.get(key),
      setSync: (key, entry) => void map.set(key, entry),
    }
    const a = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' } })
    const b = createCache({ tiers: [own], policy: { ttl: '1m' } })
    open.push(broadcastInvalidation(a, { channel }), broadcastInvalidation(b, { channel }))
    await a.set('k', 'v')
    await vi.waitFor(() => expect(map.get(':k')?.value).toBe('v'), { timeout: 10_000 })
    await a.delete('k')
    await vi.waitFor(() => expect(map.has(':k')).toBe(false), { timeout: 10_000 })
  })

  it('works with a custom choice of local tiers', async () => {
    const channel = `local-${crypto.randomUUID()}`
    const mine = memoryStore({ name: 'mine' })
    const a = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' } })
    const b = createCache({ tiers: [mine], policy: { ttl: '1m' } })
    open.push(broadcastInvalidation(a, { channel }), broadcastInvalidation(b, { channel, local: (store) => store.name !== 'mine' }))
    await a.set('k', 'v')
    await drained(channel)
    expect(mine.peek(':k')).toBeUndefined()
  })
})

