// upstashStore with the real @upstash/redis client over HTTP to the testkit endpoint over a real redis-server.
import { memoryCoordinator } from '@tiercache/core'
import { encodeEntry } from '@tiercache/core/store'
import { runStoreContract } from '@tiercache/core/testing'
import { describe, expect, it } from 'vitest'
import { upstashCoordinator, upstashStore } from '../../src/index'
import { entryFor as entry, manualClock, redisFor, resetStats, sharedEndpoint, statsOf, unique, withOwnEndpoint, type OwnEndpoint } from '../support/services'

const shared = sharedEndpoint()
const sharedRedis = redisFor(shared)

runStoreContract({
  name: 'upstashStore (MGET reads)',
  create: () => upstashStore({ redis: sharedRedis, prefix: `${unique('contract')}:` }),
})

runStoreContract({
  name: 'upstashStore linked to an upstashCoordinator (reads with tag stamps, EVAL_RO)',
  create: () => upstashStore({ redis: sharedRedis, prefix: `${unique('contract')}:`, coordinator: upstashCoordinator({ redis: sharedRedis, prefix: `${unique('tc')}:` }) }),
})

const rawRedis = redisFor(shared, { deserialize: false })
const clock = manualClock()
runStoreContract({
  name: 'upstashStore, client without automatic deserialization, injected clock',
  create: () => upstashStore({ redis: rawRedis, prefix: `${unique('contract')}:`, now: clock.now }),
  clock,
})

describe('upstashStore: requests and what Redis holds (own redis + endpoint)', () => {
  let endpoint: OwnEndpoint
  let redis: ReturnType<typeof redisFor>
  withOwnEndpoint((own) => {
    endpoint = own
    redis = redisFor(own)
  })

  it('expires the key (PX) at the entry\'s last servable moment, stale-if-error included', async () => {
    const store = upstashStore({ redis, prefix: 'p:' })
    await store.set('k', entry('v', 10_000, { staleUntil: Date.now() + 20_000, errorUntil: Date.now() + 600_000 }))
    const pttl = await redis.pttl('p:k')
    expect(pttl).toBeGreaterThan(595_000)
    expect(pttl).toBeLessThanOrEqual(600_000)
  })

  it('get is one request; getMany of five keys is one request; setMany of three is one pipeline', async () => {
    const store = upstashStore({ redis, prefix: 'p:' })
    await store.setMany!([['a', entry('A', 60_000)], ['b', entry('B', 60_000)], ['c', entry('C', 60_000)]])
    expect((await statsOf(endpoint)).requests).toBe(1)
    expect((await statsOf(endpoint)).byCommand.SET).toBe(3)
    await resetStats(endpoint)
    expect((await store.get('a'))?.value).toBe('A')
    expect((await statsOf(endpoint)).requests).toBe(1)
    await resetStats(endpoint)
    expect((await store.getMany!(['a', 'x', 'b', 'c', 'a'])).map((e) => e?.value)).toEqual(['A', undefined, 'B', 'C', 'A'])
    expect(await statsOf(endpoint)).toMatchObject({ requests: 1, byCommand: { MGET: 1 } })
  })

  it('linked to a coordinator, reads the entry, its tag stamps and the current stamp in one EVAL_RO; tag checks and the next load then need no request', async () => {
    const coordinator = upstashCoordinator({ redis, prefix: 'tc:' })
    const store = upstashStore({ redis, prefix: 'p:', coordinator })
    const stamp = await coordinator.invalidateTags(['t1'])
    await coordinator.invalidateTags(['other'])
    await store.set('tagged', entry('T', 60_000, { tags: ['t1', 't2'] }))
    // Another isolate: its own coordinator has never seen these tags.
    const cold = upstashCoordinator({ redis, prefix: 'tc:' })
    const reader = upstashStore({ redis, prefix: 'p:', coordinator: cold })
    await resetStats(endpoint)
    const got = await reader.get('tagged')
    expect(got?.tags).toEqual(['t1', 't2'])
    expect(await statsOf(endpoint)).toMatchObject({ requests: 1, byCommand: { EVAL_RO: 1 } })
    // Answered synchronously from what the read brought along: no Promise, no request.
    expect(cold.tagStamp(['t1', 't2'])).toBe(stamp)
    expect(cold.stamp()).toBeGreaterThan(stamp as number)
    expect((await statsOf(endpoint)).requests).toBe(1)
  })

  it('writes tags first so that the read script finds them without decoding the value; decodeEntry reads it as usual', async () => {
    const store = upstashStore({ redis: redisFor(endpoint, { deserialize: false }), prefix: 'p:' })
    const e = entry({ text: '"t":["not a tag"]' }, 60_000, { tags: ['a]b', 'ü'] })
    await store.set('order', e)
    const raw = (await redisFor(endpoint, { deserialize: false }).get('p:order')) as string
    expect(raw.startsWith('{"t":["a]b","ü"],"v":1,')).toBe(true)
    const coordinator = upstashCoordinator({ redis, prefix: 'tc:' })
    await coordinator.invalidateTags(['a]b'])
    const linked = upstashStore({ redis, prefix: 'p:', coordinator: upstashCoordinator({ redis, prefix: 'tc:' }) })
    expect(await linked.get('order')).toEqual(e)
  })

  it('reads an entry whether the client parsed the JSON (object) or not (string), and one written by encodeEntry', async () => {
    const e = entry({ id: 1 }, 60_000)
    await redis.set('p:plain', encodeEntry(e), { px: 60_000 })
    expect(await upstashStore({ redis, prefix: 'p:' }).get('plain')).toEqual(e)
    expect(await upstashStore({ redis: redisFor(endpoint, { deserialize: false }), prefix: 'p:' }).get('plain')).toEqual(e)
    expect(await upstashStore({ redis, prefix: 'p:', coordinator: upstashCoordinator({ redis }) }).get('plain')).toEqual(e)
  })

  it('treats a value that does not decode as a miss and deletes it, through either read path', async () => {
    for (const coordinator of [undefined, upstashCoordinator({ redis })]) {
      const store = upstashStore({ redis, prefix: 'p:', coordinator })
      for (const [i, junk] of ['garbage', '{"v":2,"value":1,"c":1,"f":1,"s":1}', '123', '{"t":["x"],"v":1}'].entries()) {
        await redis.set(`p:junk${i}`, junk, { px: 60_000 })
        expect(await store.get(`junk${i}`)).toBeUndefined()
        expect(await redis.exists(`p:junk${i}`)).toBe(0)
      }
    }
  })

  it('deletes instead of writing an entry with no time left (PX must be positive)', async () => {
    const store = upstashStore({ redis, prefix: 'p:' })
    await store.set('gone', entry('live', 60_000))
    await store.set('gone', entry('dead', -5))
    expect(await redis.exists('p:gone')).toBe(0)
    await store.setMany!([['gone2', entry('dead', -5)]])
    expect(await redis.exists('p:gone2')).toBe(0)
  })

  it('keeps entries no longer than the linked coordinator keeps tag times', () => {
    expect(upstashStore({ redis, coordinator: upstashCoordinator({ redis }) }).maxTtl).toBe(30 * 86_400_000)
    expect(upstashStore({ redis, coordinator: upstashCoordinator({ redis, tagTtl: '2d' }) }).maxTtl).toBe(2 * 86_400_000)
    expect(upstashStore({ redis, coordinator: upstashCoordinator({ redis }), maxTtl: '1h' }).maxTtl).toBe(3_600_000)
    expect(upstashStore({ redis }).maxTtl).toBeUndefined()
  })

  it('uses its prefix, so that stores with different prefixes do not see each other', async () => {
    const a = upstashStore({ redis, prefix: 'a:' })
    const b = upstashStore({ redis, prefix: 'b:' })
    await a.set('same', entry('A', 60_000))
    expect(await b.get('same')).toBeUndefined()
    expect(await redis.exists('a:same')).toBe(1)
  })

  it('rejects bad options at the factory, naming the option', () => {
    expect(() => upstashStore({} as never)).toThrow(/options\.redis/)
    expect(() => upstashStore({ redis: {} as never })).toThrow(/options\.redis .*no get/)
    expect(() => upstashStore({ redis, prefix: 3 as unknown as string })).toThrow(/options\.prefix/)
    expect(() => upstashStore({ redis, maxTtl: 'soon' as never })).toThrow(/options\.maxTtl/)
    expect(() => upstashStore({ redis, timeout: -1 })).toThrow(/options\.timeout/)
    expect(() => upstashStore({ redis, coordinator: 'x' as never })).toThrow(/options\.coordinator/)
    // Another coordinator is accepted: reads then simply do not bring tag times along.
    expect(() => upstashStore({ redis, coordinator: memoryCoordinator() })).not.toThrow()
  })
})
