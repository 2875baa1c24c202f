import type { StandardSchemaV1 } from '@standard-schema/spec'
import { describe, expect, it } from 'vitest'
import { createCache } from './cache.js'
import { memoryCoordinator, type LockAttempt } from './coordinator.js'
import { warm } from './engine/warm.js'
import { CacheError } from './errors.js'
import type { CacheEvent } from './events.js'
import { memoryStore } from './stores/memory.js'
import { scripted } from './test-support/helpers.js'
import { SerializingStore } from './test-support/serializing-store.js'

interface UserV2 {
  id: number
  name: { first: string; last: string }
}

/** A Standard Schema by hand (what zod, valibot and arktype implement): UserV2, sync or async. */
function userV2(mode: 'sync' | 'async' = 'sync'): StandardSchemaV1<UserV2> {
  const validate = (value: unknown): StandardSchemaV1.Result<UserV2> => {
    const v = value as Partial<UserV2> | null
    if (typeof v !== 'object' || v === null || typeof v.id !== 'number') return { issues: [{ message: 'id must be a number', path: ['id'] }] }
    if (typeof v.name !== 'object' || v.name === null || typeof v.name.first !== 'string') {
      return { issues: [{ message: 'name must be { first, last }', path: ['name'] }] }
    }
    return { value: v as UserV2 }
  }
  return { '~standard': { version: 1, vendor: 'test', validate: mode === 'sync' ? validate : async (value) => validate(value) } }
}

/** Version 1 of the type, as an older deployment wrote it. */
const OLD = { id: 7, name: 'Ada Lovelace' }
const NEW: UserV2 = { id: 7, name: { first: 'Ada', last: 'Lovelace' } }

function migrate(stored: unknown): unknown {
  const old = stored as { id: number; name: string }
  const [first = '', last = ''] = old.name.split(' ')
  return { id: old.id, name: { first, last } }
}

async function setup(mode: 'sync' | 'async' = 'sync') {
  const shared = new SerializingStore('shared', 'text')
  // What the previous deployment left in the shared tier.
  await createCache({ tiers: [shared], policy: { ttl: '1h' } }).set('user:7', OLD)
  const events: CacheEvent[] = []
  const cache = createCache({ tiers: [memoryStore(), shared], policy: { ttl: '1h', schema: userV2(mode) }, onEvent: (e) => events.push(e) })
  return { shared, cache, events, invalid: () => events.filter((e) => e.type === 'invalid') }
}

describe('Policy.schema', () => {
  for (const mode of ['sync', 'async'] as const) {
    it(`a stored value of an older shape is dropped and reloaded, with an invalid event (${mode} schema)`, async () => {
      const { cache, shared, invalid } = await setup(mode)
      let loads = 0
      expect(await cache.getOrSet('user:7', () => (loads++, NEW))).toEqual(NEW)
      expect(loads).toBe(1)
      expect(invalid()).toMatchObject([{ key: 'user:7', tier: 'shared', tierIndex: 1, migrated: false, issues: [{ message: 'name must be { first, last }' }] }])
      await cache.idle()
      expect(JSON.parse(shared.raw.get(':user:7') as string).value).toEqual(NEW)
    })
  }

  it('with migrate, the older value is migrated and served without a load, here and from L1 after; the shared tier is not written', async () => {
    const { cache, shared, invalid } = await setup()
    let loads = 0
    expect(await cache.getOrSet('user:7', () => (loads++, null), { migrate })).toEqual(NEW)
    expect(loads).toBe(0)
    expect(invalid()).toMatchObject([{ migrated: true }])
    await cache.idle()
    expect(await cache.getOrSet('user:7', () => (loads++, null), { migrate })).toEqual(NEW)
    expect(loads).toBe(0)
    expect(invalid()).toHaveLength(1)
    // A write there could land over what another process wrote meanwhile (see read-path.test.ts).
    expect(JSON.parse(shared.raw.get(':user:7') as string).value).toEqual(OLD)
    // What migrate cannot fix is dropped.
    const broken = await setup()
    await createCache({ tiers: [broken.shared], policy: { ttl: '1h' } }).set('user:8', { nope: true })
    expect(await broken.cache.getOrSet('user:8', () => ({ id: 8, name: { first: 'A', last: 'B' } }), { migrate: () => ({ still: 'wrong' }) })).toEqual({
      id: 8,
      name: { first: 'A', last: 'B' },
    })
    expect(broken.invalid()).toMatchObject([{ migrated: false }])
  })

  it('checks the values getManyOrSet reads too', async () => {
    const { cache, invalid } = await setup()
    const got = await cache.getManyOrSet(['user:7'], (keys) => keys.map(() => NEW))
    expect(got).toEqual([NEW])
    expect(invalid()).toHaveLength(1)
  })

  it('a loaded value that fails fails the load (INVALID_VALUE) and is not stored, unless checkLoaded is false', async () => {
    const { cache, shared } = await setup()
    const error = await cache.getOrSet('user:9', () => ({ id: 'nine' })).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CacheError)
    expect((error as CacheError).code).toBe('INVALID_VALUE')
    expect((error as CacheError).message).toMatch(/user:9 fails policy\.schema: id must be a number/)
    expect(shared.raw.has(':user:9')).toBe(false)
    await expect(cache.getManyOrSet(['user:10'], () => [{ id: 'ten' }])).rejects.toMatchObject({ code: 'INVALID_VALUE' })
    expect(await cache.getOrSet('user:11', () => ({ id: 'eleven' }), { checkLoaded: false })).toEqual({ id: 'eleven' })
    await cache.idle()
    expect(shared.raw.has(':user:11')).toBe(true)
  })

  it('checks what another process hands over through the lock, or writes while this one waits for it', async () => {
    const now = Date.now()
    const old = { value: OLD, createdAt: now, freshUntil: now + 3_600_000, staleUntil: now + 3_600_000 }
    const base = memoryCoordinator()
    // A holder running the previous deployment: it hands its (old-shaped) entry to the waiter.
    const handing = scripted(base, 'handing', { acquire: async (): Promise<LockAttempt> => ({ status: 'shared', entry: old }) })
    // A holder of the previous deployment that writes the shared tier while this process polls for it.
    const shared = new SerializingStore('shared', 'text')
    const polling = scripted(base, 'polling', {
      lock: async () => {
        await createCache({ tiers: [shared], policy: { ttl: '1h' } }).set('user:7', OLD)
        return undefined
      },
    })
    for (const [coordinator, store] of [
      [handing, new SerializingStore('shared', 'text')],
      [polling, shared],
    ] as const) {
      const events: CacheEvent[] = []
      const cache = createCache({
        tiers: [memoryStore(), store],
        coordinator,
        lockWait: 50,
        policy: { ttl: '1h', schema: userV2() },
        onEvent: (e) => events.push(e),
      })
      let loads = 0
      expect(await cache.getOrSet('user:7', () => (loads++, NEW))).toEqual(NEW)
      expect(loads).toBe(1)
      expect(events.filter((e) => e.type === 'invalid').length).toBeGreaterThanOrEqual(1)
      expect(events.filter((e) => e.type === 'invalid').every((e) => e.type === 'invalid' && !e.migrated && e.tier === 'shared')).toBe(true)
    }
  })

  it('with migrate, an older entry handed over through the lock is served migrated, without a load', async () => {
    const now = Date.now()
    const old = { value: OLD, createdAt: now, freshUntil: now + 3_600_000, staleUntil: now + 3_600_000 }
    const handing = scripted(memoryCoordinator(), 'handing', { acquire: async (): Promise<LockAttempt> => ({ status: 'shared', entry: old }) })
    const events: CacheEvent[] = []
    const l1 = memoryStore()
    const cache = createCache({
      tiers: [l1, new SerializingStore('shared', 'text')],
      coordinator: handing,
      policy: { ttl: '1h', schema: userV2(), migrate },
      onEvent: (e) => events.push(e),
    })
    let loads = 0
    expect(await cache.getOrSet('user:7', () => (loads++, null))).toEqual(NEW)
    expect(loads).toBe(0)
    expect(events.filter((e) => e.type === 'invalid')).toMatchObject([{ migrated: true, tier: 'shared' }])
    await cache.idle()
    expect(await cache.get('user:7')).toEqual(NEW) // L1 holds the migrated copy
  })

  it('warm() reloads a key whose stored value fails the schema instead of counting it fresh', async () => {
    const { cache, shared, invalid } = await setup()
    const result = await warm(cache, ['user:7'], () => NEW)
    expect(result).toMatchObject({ loaded: 1, fresh: 0, failed: 0 })
    expect(invalid()).toMatchObject([{ key: 'user:7', migrated: false }])
    await cache.idle()
    expect(JSON.parse(shared.raw.get(':user:7') as string).value).toEqual(NEW)
  })

  it('values in the in-process tier are not checked again; a bad schema is refused at the call site', async () => {
    const memory = memoryStore()
    const seeded = createCache({ tiers: [memory], policy: { ttl: '1h' } })
    await seeded.set('k', OLD)
    const events: CacheEvent[] = []
    const cache = createCache({ tiers: [memory], policy: { ttl: '1h', schema: userV2() }, onEvent: (e) => events.push(e) })
    expect(await cache.getOrSet('k', () => NEW)).toEqual(OLD)
    expect(events.some((e) => e.type === 'invalid')).toBe(false)
    expect(() => createCache({ tiers: [memory], policy: { ttl: '1h', schema: {} as StandardSchemaV1 } })).toThrow(/policy\.schema must be a Standard Schema/)
  })
})
