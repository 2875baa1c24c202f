// The shared Redis layout and scripts, run on a real redis-server through the real @upstash/redis client (testkit's
// Upstash endpoint), as upstashCoordinator runs them; @tiercache/redis runs the same texts over TCP.
import { startRedis, startUpstashServer, type RedisServer, type UpstashServer } from '@tiercache/testkit'
import { Redis } from '@upstash/redis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { encodeEntry, type Entry } from '../entry.js'
import { SOFT_TAG } from '../engine/soft.js'
import {
  DEFAULT_REDIS_PREFIX,
  INVALIDATE_TAGS,
  parseStamp,
  parseTagStamps,
  READ_WITH_TAG_STAMPS,
  redisLayout,
  RELEASE_LOCK,
  tagStampKeys,
} from './index.js'

let server: RedisServer
let upstash: UpstashServer
let redis: Redis

beforeAll(async () => {
  server = await startRedis()
  upstash = await startUpstashServer({ redisUrl: server.url })
  redis = new Redis({ url: upstash.url, token: upstash.token, enableAutoPipelining: false })
})

afterAll(async () => {
  await upstash?.stop()
  await server?.stop()
})

beforeEach(async () => {
  await upstash.flushAll()
})

const layout = redisLayout()
const DAY = 86_400_000

function invalidate(tags: string[], tagTtl = 30 * DAY): Promise<number> {
  return redis.eval(INVALIDATE_TAGS, tagStampKeys(layout, tags), [String(tagTtl)]).then(parseStamp)
}

async function redisTimeMs(): Promise<number> {
  const [seconds, micros] = (await redis.time()) as [number, number]
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
}

describe('redisLayout', () => {
  it('puts the stamp and every tag in the {tags} hash slot, locks outside it', () => {
    expect(DEFAULT_REDIS_PREFIX).toBe('tc:')
    expect(layout).toMatchObject({ prefix: 'tc:', stampKey: 'tc:{tags}:stamp', tagPrefix: 'tc:{tags}:tag:', lockPrefix: 'tc:lock:', waitPrefix: 'tc:wait:' })
    expect(layout.tagKey('ns:products')).toBe('tc:{tags}:tag:ns:products')
    expect(layout.lockKey('ns:k')).toBe('tc:lock:ns:k')
    // Redis Cluster hashes the text between the first '{' and the next '}'.
    const hashTag = (key: string): string => /\{([^}]*)\}/.exec(key)?.[1] ?? key
    for (const key of [layout.stampKey, layout.tagKey('a{b}'), redisLayout('app:').tagKey('}{x}')]) expect(hashTag(key)).toBe('tags')
  })

  it('rejects a prefix that would break the slot or is not a string, naming the option', () => {
    expect(() => redisLayout('a{b}:')).toThrow(RangeError)
    expect(() => redisLayout('a}:', 'options.prefix')).toThrow(/options\.prefix must not contain '\{' or '\}'/)
    expect(() => redisLayout(1 as unknown as string, 'options.keyPrefix')).toThrow(/options\.keyPrefix must be a string/)
    expect(() => redisLayout('x'.repeat(129))).toThrow(/at most 128/)
  })
})

describe('INVALIDATE_TAGS', () => {
  it('issues a stamp from the Redis clock and records it on the stamp key and every tag, with PX tagTtl', async () => {
    const before = await redisTimeMs()
    const s = await invalidate(['ns:a', 'ns:b'], 3_600_000)
    const after = await redisTimeMs()
    expect(s).toBeGreaterThanOrEqual(before)
    expect(s).toBeLessThanOrEqual(after)
    expect(parseStamp(await redis.get(layout.stampKey))).toBe(s)
    expect(parseTagStamps(await redis.mget(...tagStampKeys(layout, ['ns:a', 'ns:b', 'ns:never'])), 3)).toEqual({ stamp: s, tags: [s, s, 0] })
    expect(await redis.pttl(layout.stampKey)).toBe(-1)
    const pttl = await redis.pttl(layout.tagKey('ns:a'))
    expect(pttl).toBeGreaterThan(3_500_000)
    expect(pttl).toBeLessThanOrEqual(3_600_000)
  })

  it('only grows: 50 calls in a burst (many in one millisecond) give 50 strictly increasing stamps', async () => {
    const stamps: number[] = []
    for (let i = 0; i < 50; i++) stamps.push(await invalidate([`t${i % 3}`]))
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]).toBeGreaterThan(stamps[i - 1] as number)
    // 50 requests one after the other: seconds on a loaded 2-core machine, where the 5 s default timed out.
  }, 60_000)

  it('never goes back when the Redis clock is behind the last stamp, nor below a tag already recorded', async () => {
    const ahead = (await redisTimeMs()) + 10 * DAY
    await redis.set(layout.stampKey, String(ahead))
    expect(await invalidate(['x'])).toBe(ahead + 1)
    // A tag recorded above the stamp (a stamp key lost to eviction, say): the new stamp still raises it.
    await redis.set(layout.tagKey('y'), String(ahead + 100))
    expect(await invalidate(['y', 'z'])).toBe(ahead + 101)
    expect(parseTagStamps(await redis.mget(...tagStampKeys(layout, ['x', 'y', 'z'])), 3)).toEqual({
      stamp: ahead + 101,
      tags: [ahead + 1, ahead + 101, ahead + 101],
    })
  })

  it('writes integer strings, never exponent notation', async () => {
    await redis.set(layout.stampKey, '99999999999999')
    await invalidate(['big'])
    const raw = new Redis({ url: upstash.url, token: upstash.token, automaticDeserialization: false })
    expect(await raw.get(layout.stampKey)).toBe('100000000000000')
  })
})

describe('READ_WITH_TAG_STAMPS', () => {
  const entry = (tags?: string[]): Entry => ({ value: { big: 'x'.repeat(200), nested: [1, ']', '"t":['] }, createdAt: 1, freshUntil: 2, staleUntil: 3, ...(tags && { tags }) })

  it('answers the current stamp, then each entry with the stamps of its own tags, in one call', async () => {
    await redis.set('tc:v:ns:a', encodeEntry(entry(['ns:t1', 'ns:]odd"tag'])))
    await redis.set('tc:v:ns:b', encodeEntry(entry()))
    const s = await invalidate(['ns:]odd"tag'])
    const rows = (await redis.evalRo(READ_WITH_TAG_STAMPS, ['tc:v:ns:a', 'tc:v:ns:b', 'tc:v:ns:missing'], [layout.tagPrefix, layout.stampKey])) as unknown[]
    expect(rows).toHaveLength(4)
    expect(parseStamp(rows[0])).toBe(s)
    const [a, b, missing] = rows.slice(1) as [unknown[], unknown[], unknown[]]
    // The tags' stamps, then their soft records' (never soft-invalidated: 0).
    expect((a[1] as unknown[]).map(parseStamp)).toEqual([0, s, 0, 0])
    expect(a[0]).toMatchObject({ t: ['ns:t1', 'ns:]odd"tag'], v: 1 })
    expect(b[1]).toEqual([])
    expect(missing).toEqual([null, []])
  })

  it("answers each entry's soft records after its tags: the soft record of t is the tag record of SOFT_TAG + t", async () => {
    await redis.set('tc:v:ns:a', encodeEntry(entry(['ns:t1', 'ns:t2'])))
    const hard = await invalidate(['ns:t1'])
    const soft = await invalidate([`${SOFT_TAG}ns:t2`])
    expect(SOFT_TAG).toBe('%soft:')
    const rows = (await redis.evalRo(READ_WITH_TAG_STAMPS, ['tc:v:ns:a'], [layout.tagPrefix, layout.stampKey])) as unknown[]
    expect(parseStamp(rows[0])).toBe(soft)
    expect(((rows[1] as unknown[])[1] as unknown[]).map(parseStamp)).toEqual([hard, 0, 0, soft])
  })

  it('answers a stamp of 0 before any invalidation', async () => {
    const rows = (await redis.evalRo(READ_WITH_TAG_STAMPS, ['tc:v:none'], [layout.tagPrefix, layout.stampKey])) as unknown[]
    expect(parseStamp(rows[0])).toBe(0)
  })
})

describe('RELEASE_LOCK', () => {
  it('deletes the lock only for the token that took it', async () => {
    await redis.set(layout.lockKey('k'), 'mine', { nx: true, px: 10_000 })
    expect(await redis.eval(RELEASE_LOCK, [layout.lockKey('k')], ['theirs'])).toBe(0)
    expect(await redis.exists(layout.lockKey('k'))).toBe(1)
    expect(await redis.eval(RELEASE_LOCK, [layout.lockKey('k')], ['mine'])).toBe(1)
    expect(await redis.exists(layout.lockKey('k'))).toBe(0)
  })
})

describe('parseStamp', () => {
  it.each([
    ['1700000000123', 1_700_000_000_123],
    [1_700_000_000_123, 1_700_000_000_123],
    [new TextEncoder().encode('42'), 42],
    [null, 0],
    [undefined, 0],
    ['1e21', 0],
    ['-5', 0],
    [-5, 0],
    [1.5, 0],
    [Number.POSITIVE_INFINITY, 0],
    ['12abc', 0],
  ])('%j -> %d', (input, stamp) => {
    expect(parseStamp(input)).toBe(stamp)
  })

  it('rejects a reply of the wrong length', () => {
    expect(() => parseTagStamps(['1'], 1)).toThrow(/answered 1 values/)
  })
})
