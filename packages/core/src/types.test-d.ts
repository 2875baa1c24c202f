import { describe, expectTypeOf, it } from 'vitest'
import { createCache, memoryStore, withConsistentWrites, type Cache, type CacheEvent, type ConsistentWritesOptions, type Duration, type Entry, type Policy } from './index.js'

interface User {
  id: number
  name: string
}
declare const user: User
const cache = createCache({ tiers: [memoryStore()], policy: { ttl: '5m' } })

describe('inference of the public API', () => {
  it('getOrSet resolves to the loader value or null', () => {
    expectTypeOf(cache.getOrSet('u', async () => user)).toEqualTypeOf<Promise<User | null>>()
    expectTypeOf(cache.getOrSet('u', () => user)).toEqualTypeOf<Promise<User | null>>()
    expectTypeOf(cache.getOrSet('u', async () => (Math.random() > 0.5 ? user : null))).toEqualTypeOf<Promise<User | null>>()
  })

  it('withConsistentWrites returns a Cache that infers like the one it wraps', () => {
    const consistent = withConsistentWrites(cache, { keys: (key) => key.startsWith('u') })
    expectTypeOf(consistent).toEqualTypeOf<Cache>()
    expectTypeOf(consistent.getOrSet('u', async () => user)).toEqualTypeOf<Promise<User | null>>()
    expectTypeOf<ConsistentWritesOptions['keys']>().toEqualTypeOf<((key: string) => boolean) | undefined>()
  })

  it('reading ctx.staleValue does not collapse the result to unknown', () => {
    const answer = cache.getOrSet('u', async (ctx) => {
      const stale = ctx.staleValue
      void stale
      return user
    })
    expectTypeOf(answer).toEqualTypeOf<Promise<User | null>>()
  })

  it('types ctx.staleValue when the value type is given', () => {
    void cache.getOrSet<User>('u', (ctx) => {
      expectTypeOf(ctx.staleValue).toEqualTypeOf<User | undefined>()
      return ctx.staleValue ?? user
    })
  })

  it('getManyOrSet resolves to values aligned with the keys', () => {
    expectTypeOf(cache.getManyOrSet(['a', 'b'], async (keys) => keys.map(() => user))).toEqualTypeOf<Promise<(User | null)[]>>()
  })

  it('getManyOrSet with options.errors adds undefined for a key with no answer', () => {
    const errors: unknown[] = []
    expectTypeOf(cache.getManyOrSet(['a'], async (keys) => keys.map(() => user), undefined, { errors })).toEqualTypeOf<Promise<(User | null | undefined)[]>>()
  })

  it('get is unknown unless told, with undefined for a miss and null for a cached "not found"', () => {
    expectTypeOf(cache.get('u')).toEqualTypeOf<Promise<unknown>>()
    expectTypeOf(cache.get<User>('u')).toEqualTypeOf<Promise<User | null | undefined>>()
  })
})

describe('Duration', () => {
  it('accepts numbers and number-unit strings', () => {
    expectTypeOf<500>().toMatchTypeOf<Duration>()
    expectTypeOf<'500ms'>().toMatchTypeOf<Duration>()
    expectTypeOf<'1.5h'>().toMatchTypeOf<Duration>()
    expectTypeOf<'30 s'>().toMatchTypeOf<Duration>()
    expectTypeOf<'1d'>().toMatchTypeOf<Duration>()
  })

  it("rejects strings that are not durations, such as '5x'", () => {
    expectTypeOf<'5x'>().not.toMatchTypeOf<Duration>()
    expectTypeOf<'five minutes'>().not.toMatchTypeOf<Duration>()
    expectTypeOf<'m'>().not.toMatchTypeOf<Duration>()
    // @ts-expect-error '5x' is not a Duration
    const policy: Policy = { ttl: '5x' }
    void policy
  })
})

describe('CacheEvent', () => {
  it('narrows on type to the fields of that event', () => {
    const seen = (event: CacheEvent): void => {
      if (event.type === 'hit') {
        expectTypeOf(event.entry).toEqualTypeOf<Entry>()
        expectTypeOf(event.tier).toEqualTypeOf<string>()
        expectTypeOf(event.tierIndex).toEqualTypeOf<number>()
      }
      if (event.type === 'error') expectTypeOf(event.error.code).toBeString()
      if (event.type === 'load') expectTypeOf(event.ms).toEqualTypeOf<number>()
      if (event.type === 'stale') expectTypeOf(event.reason).toEqualTypeOf<'swr' | 'error' | 'timeout'>()
      if (event.type === 'invalidate') expectTypeOf(event.tags).toEqualTypeOf<readonly string[]>()
      if (event.type === 'delete') expectTypeOf(event.entry).toEqualTypeOf<undefined>()
      // Unnarrowed, a field reads as possibly undefined.
      expectTypeOf(event.tier).toEqualTypeOf<string | undefined>()
    }
    void seen
  })
})
