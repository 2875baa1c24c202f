import { describe, expect, it } from 'vitest'
import { createCache } from '../cache.js'
import { memoryCoordinator, type LockAttempt } from '../coordinator.js'
import { decodeEntry, type Entry } from '../entry.js'
import type { CacheEvent } from '../events.js'
import { memoryStore } from '../stores/memory.js'
import { manualClock, scripted } from '../test-support/helpers.js'
import { SerializingStore, type Keeping } from '../test-support/serializing-store.js'
import { createCodec } from './create-codec.js'
import type { EncryptionOptions } from './encryption.js'

const K1 = new Uint8Array(32).fill(7)
const K2 = new Uint8Array(32).fill(9)
const ROTATED = [
  { id: 'k2', key: K2 },
  { id: 'k1', key: K1 },
]

/** The key id the tier's raw data names for `key` (from the stored data itself, not through a cache). */
function keyIdIn(store: SerializingStore, key: string): string | undefined {
  const raw = store.raw.get(key)
  // A structured clone keeps the envelope object: its codec id is field x.
  const codecId = store.keeping === 'clone' ? (raw as { x?: string } | undefined)?.x : decodeEntry(raw)?.codec
  return codecId?.split('+aes-gcm.')[1]
}

function setup(encryption: EncryptionOptions, store: SerializingStore, tiers: 'shared' | 'memory+shared' = 'shared') {
  const clock = manualClock()
  const events: CacheEvent[] = []
  const cache = createCache({
    tiers: tiers === 'shared' ? [store] : [memoryStore(), store],
    codec: createCodec({ encryption }),
    now: clock.now,
    policy: { ttl: '1h' },
    onEvent: (e) => events.push(e),
  })
  return { cache, clock, events, reencrypted: () => events.filter((e) => e.type === 'reencrypt').map((e) => `${e.key}@${e.tier}`) }
}

async function writtenUnderK1(keeping: Keeping, keys: string[]): Promise<SerializingStore> {
  const store = new SerializingStore('shared', keeping)
  const old = setup({ keys: [{ id: 'k1', key: K1 }], current: 'k1' }, store)
  for (const key of keys) await old.cache.set(key, { key, note: 'secret' })
  return store
}

describe('background re-encryption after a key rotation (encryption.reencrypt)', () => {
  it('is off by default: entries under the old key are read and left as they are', async () => {
    const store = await writtenUnderK1('text', ['a'])
    const rotated = setup({ keys: ROTATED, current: 'k2' }, store)
    expect(await rotated.cache.get('a')).toEqual({ key: 'a', note: 'secret' })
    await rotated.cache.idle()
    expect(keyIdIn(store, ':a')).toBe('k1')
    expect(rotated.reencrypted()).toEqual([])
  })

  it('re-writes an entry read under an old key with the current one, same value and times, reported as an event', async () => {
    for (const keeping of ['text', 'bytes', 'clone'] as const) {
      const store = await writtenUnderK1(keeping, ['a'])
      const before = await store.get(':a')
      const rotated = setup({ keys: ROTATED, current: 'k2', reencrypt: true }, store)
      expect(await rotated.cache.get('a')).toEqual({ key: 'a', note: 'secret' })
      await rotated.cache.idle()
      expect(keyIdIn(store, ':a')).toBe('k2')
      expect(rotated.reencrypted()).toEqual(['a@shared'])
      const after = await store.get(':a')
      expect(after).toMatchObject({ createdAt: before?.createdAt, freshUntil: before?.freshUntil, staleUntil: before?.staleUntil })
      // Readable once k1 is gone; read again, nothing more to do.
      const k2Only = setup({ keys: [{ id: 'k2', key: K2 }], current: 'k2', reencrypt: true }, store)
      expect(await k2Only.cache.get('a')).toEqual({ key: 'a', note: 'secret' })
      await k2Only.cache.idle()
      expect(k2Only.reencrypted()).toEqual([])
    }
  })

  it('keeps at most maxPending re-writes in flight; the others wait for a later read', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e']
    const store = await writtenUnderK1('text', keys)
    const rotated = setup({ keys: ROTATED, current: 'k2', reencrypt: { maxPending: 2 } }, store)
    await Promise.all(keys.map((key) => rotated.cache.get(key)))
    await rotated.cache.idle()
    expect(keys.filter((key) => keyIdIn(store, `:${key}`) === 'k2')).toHaveLength(2)
    await Promise.all(keys.map((key) => rotated.cache.get(key)))
    await rotated.cache.idle()
    await Promise.all(keys.map((key) => rotated.cache.get(key)))
    await rotated.cache.idle()
    expect(keys.map((key) => keyIdIn(store, `:${key}`))).toEqual(['k2', 'k2', 'k2', 'k2', 'k2'])
    expect(rotated.reencrypted()).toHaveLength(5)
  })

  it('never puts an older value back over a write made in this process after the read', async () => {
    const store = await writtenUnderK1('text', ['a'])
    const rotated = setup({ keys: ROTATED, current: 'k2', reencrypt: true }, store)
    const read = rotated.cache.get('a')
    await rotated.cache.set('a', { key: 'a', note: 'newer' })
    await read
    await rotated.cache.idle()
    expect(await setup({ keys: ROTATED, current: 'k2' }, store).cache.get('a')).toEqual({ key: 'a', note: 'newer' })
  })

  it('covers batch reads (getManyOrSet), within the same bound', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e']
    const store = await writtenUnderK1('text', keys)
    const rotated = setup({ keys: ROTATED, current: 'k2', reencrypt: { maxPending: 2 } }, store)
    const loadMany = (missing: string[]) => missing.map(() => 'loaded')
    expect(await rotated.cache.getManyOrSet(keys, loadMany)).toEqual(keys.map((key) => ({ key, note: 'secret' })))
    await rotated.cache.idle()
    expect(keys.filter((key) => keyIdIn(store, `:${key}`) === 'k2')).toHaveLength(2)
    for (let round = 0; round < 2; round++) {
      await rotated.cache.getManyOrSet(keys, loadMany)
      await rotated.cache.idle()
    }
    expect(keys.map((key) => keyIdIn(store, `:${key}`))).toEqual(['k2', 'k2', 'k2', 'k2', 'k2'])
    expect([...rotated.reencrypted()].sort()).toEqual(keys.map((key) => `${key}@shared`))
  })

  it('covers an entry a lock holder hands over (written by a process still on the old key)', async () => {
    const store = new SerializingStore('shared', 'text')
    // What the holder, another process still writing under k1, stores in the shared tier: made here by a cache on k1.
    const holderTier = await writtenUnderK1('text', ['a'])
    const base = memoryCoordinator()
    let handed = 0
    const handing = scripted(base, 'handing', {
      // This process missed and asked for the lock; the holder wrote its entry meanwhile and hands it over.
      acquire: async (): Promise<LockAttempt> => {
        handed++
        const raw = holderTier.raw.get(':a') as string
        store.raw.set(':a', raw)
        return { status: 'shared', entry: decodeEntry(raw) as Entry }
      },
    })
    const events: CacheEvent[] = []
    const cache = createCache({
      tiers: [memoryStore(), store],
      coordinator: handing,
      now: manualClock().now,
      codec: createCodec({ encryption: { keys: ROTATED, current: 'k2', reencrypt: true } }),
      policy: { ttl: '1h' },
      onEvent: (e) => events.push(e),
    })
    let loads = 0
    const loader = () => {
      loads++
      return { key: 'a', note: 'loaded here' }
    }
    expect(await cache.getOrSet('a', loader)).toEqual({ key: 'a', note: 'secret' })
    await cache.idle()
    expect({ handed, loads }).toEqual({ handed: 1, loads: 0 })
    expect(keyIdIn(store, ':a')).toBe('k2')
    expect(events.filter((e) => e.type === 'reencrypt').map((e) => `${e.key}@${e.tier}`)).toEqual(['a@shared'])
  })

  it('refuses a bad reencrypt option at createCodec, naming it', () => {
    expect(() => createCodec({ encryption: { keys: ROTATED, current: 'k2', reencrypt: { maxPending: 0 } } })).toThrow(/encryption\.reencrypt\.maxPending must be an integer from 1 to 1000/)
    expect(() => createCodec({ encryption: { keys: ROTATED, current: 'k2', reencrypt: 'yes' as never } })).toThrow(TypeError)
  })
})
