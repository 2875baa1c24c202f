import type { Entry } from '@tiercache/core'
import { createCache, memoryStore } from '@tiercache/core'
import { runStoreContract } from '@tiercache/core/testing'
import { startMemcached, startTcpProxy, type MemcachedServer, type TcpProxy } from '@tiercache/testkit'
import memjs from 'memjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { memcachedStore, type MemcachedClient } from '../src/index.js'

const quiet = { log: () => {} }
let server: MemcachedServer
const clients: memjs.Client[] = []
function client(address = server.address, options: memjs.ClientOptions = {}): memjs.Client {
  const c = memjs.Client.create(address, { timeout: 0.5, retries: 1, logger: quiet, ...options })
  clients.push(c)
  return c
}
let serial = 0
const prefix = (): string => `t${++serial}:`

function entry(value: unknown, lifeMs = 60_000): Entry {
  const t = Date.now()
  return { value, createdAt: t, freshUntil: t + lifeMs, staleUntil: t + lifeMs }
}

beforeAll(async () => {
  server = await startMemcached()
})
afterAll(async () => {
  for (const c of clients) c.close()
  await server?.stop()
})

runStoreContract({
  name: 'memcachedStore (memcached over memjs)',
  create: () => memcachedStore({ client: client(), prefix: prefix() }),
})

describe('memcachedStore', () => {
  it('hashes a key over 250 bytes, and keeps two long keys that differ only at the end apart', async () => {
    const store = memcachedStore({ client: client(), prefix: prefix() })
    const base = 'é'.repeat(200) // 400 bytes
    await store.set(`${base}a`, entry('A'))
    await store.set(`${base}b`, entry('B'))
    expect((await store.get(`${base}a`))?.value).toBe('A')
    expect((await store.get(`${base}b`))?.value).toBe('B')
    await store.delete(`${base}a`)
    expect(await store.get(`${base}a`)).toBeUndefined()
  })

  it('refuses a value over maxValueBytes with a RangeError naming the key and the limit; core reports it and still answers', async () => {
    const store = memcachedStore({ client: client(), prefix: prefix(), maxValueBytes: 1_000, breaker: false })
    await expect(store.set('big', entry('x'.repeat(2_000)))).rejects.toThrow(/the entry of key "big" is \d+ bytes, over options.maxValueBytes \(1000\); not stored/)
    await expect(store.set('big', entry('x'.repeat(2_000)))).rejects.toBeInstanceOf(RangeError)
    const errors: string[] = []
    const cache = createCache({ tiers: [memoryStore(), store], policy: { ttl: '1m' }, onEvent: (e) => e.error && errors.push(e.error.message) })
    expect(await cache.getOrSet('big', () => 'y'.repeat(5_000))).toHaveLength(5_000)
    await cache.idle()
    expect(errors.join()).toMatch(/over options.maxValueBytes/)
  })

  it("memcached's own item limit (1 MiB) is reported when maxValueBytes allows more", async () => {
    const store = memcachedStore({ client: client(), prefix: prefix(), maxValueBytes: 4_000_000, breaker: false })
    await expect(store.set('huge', entry('x'.repeat(2_000_000)))).rejects.toThrow()
    expect(await store.get('huge')).toBeUndefined()
  })

  it('an entry past 30 days is stored with an absolute expiry and read back', async () => {
    const store = memcachedStore({ client: client(), prefix: prefix() })
    await store.set('long', entry('L', 90 * 86_400_000))
    expect((await store.get('long'))?.value).toBe('L')
  })

  it('an entry whose last servable moment has passed deletes what the key held', async () => {
    const store = memcachedStore({ client: client(), prefix: prefix() })
    await store.set('gone', entry('old'))
    const t = Date.now()
    await store.set('gone', { value: 'dead', createdAt: t - 10_000, freshUntil: t - 5_000, staleUntil: t - 1 })
    expect(await store.get('gone')).toBeUndefined()
  })

  it('a value that is not an entry reads as a miss and is deleted', async () => {
    const raw = client()
    const p = prefix()
    const store = memcachedStore({ client: raw, prefix: p })
    await raw.set(`${p}junk`, 'not json', { expires: 60 })
    expect(await store.get('junk')).toBeUndefined()
    await expect.poll(async () => (await raw.get(`${p}junk`)).value).toBeNull()
  })

  it('getMany(100) costs about one round trip, not one per key', async () => {
    const proxy: TcpProxy = await startTcpProxy({ targetPort: server.port })
    try {
      const store = memcachedStore({ client: client(`127.0.0.1:${proxy.port}`), prefix: prefix() })
      const keys = Array.from({ length: 100 }, (_, i) => `k${i}`)
      await store.setMany?.(keys.map((k, i) => [k, entry(i)] as const))
      proxy.resetStats()
      const got = await store.getMany?.(keys)
      expect(got?.map((e) => e?.value)).toEqual(keys.map((_, i) => i))
      // All 100 requests are written before the first answer; a reply may interleave with the last writes.
      expect(proxy.stats().roundTrips).toBeLessThanOrEqual(3)
    } finally {
      await proxy.stop()
    }
  })

  it('checks its options', () => {
    const c = client() as MemcachedClient
    expect(() => memcachedStore(undefined as never)).toThrow(TypeError)
    expect(() => memcachedStore({ client: {} as never })).toThrow(/options.client must be a memjs client/)
    expect(() => memcachedStore({ client: c, maxKeyBytes: 300 })).toThrow(/options.maxKeyBytes must be from 64 to 250/)
    expect(() => memcachedStore({ client: c, maxValueBytes: 0 })).toThrow(RangeError)
    expect(() => memcachedStore({ client: c, prefix: 'p'.repeat(60), maxKeyBytes: 64 })).toThrow(/options.prefix is too long/)
    expect(() => memcachedStore({ client: c, maxTtl: 0 })).toThrow(/options.maxTtl must be longer than 0 ms/)
    expect(() => memcachedStore({ client: c, breaker: 1 as never })).toThrow(/options.breaker/)
    // core/kit's checks: an empty name is refused (the package's own check let it through); an empty prefix is no prefix.
    expect(() => memcachedStore({ client: c, name: '' })).toThrow(/options\.name must be a non-empty string/)
    expect(() => memcachedStore({ client: c, prefix: '', breaker: false })).not.toThrow()
    expect(() => memcachedStore({ client: c, now: 1 as never })).toThrow(/options\.now must be a function/)
  })
})

describe('memcachedStore with memcached down', () => {
  it('a cache answers every request from the loader within the timeout, and the breaker stops calling', async () => {
    const own = await startMemcached()
    const c = client(own.address)
    // Every call the store makes on the client, counted: the breaker's effect is a count, not a time.
    let calls = 0
    const counted: MemcachedClient = {
      get: (key) => (calls++, c.get(key)),
      set: (key, value, options) => (calls++, c.set(key, value, options)),
      delete: (key) => (calls++, c.delete(key)),
    }
    const store = memcachedStore({ client: counted, prefix: prefix(), breaker: { failures: 3, cooldown: '1h' } })
    const cache = createCache({ tiers: [memoryStore({ maxEntries: 1 }), store], policy: { ttl: '1m' }, tierTimeout: 300 })
    expect(await cache.getOrSet('a', () => 'A')).toBe('A')
    await cache.idle()
    await own.stop()
    const times: number[] = []
    const callsBefore: number[] = []
    for (let i = 0; i < 20; i++) {
      callsBefore.push(calls)
      const started = performance.now()
      expect(await cache.getOrSet(`down${i}`, () => `v${i}`)).toBe(`v${i}`)
      times.push(performance.now() - started)
      await cache.idle()
    }
    // Each call is bounded by tierTimeout (memjs alone would retry for longer); a generous bound for a loaded machine.
    expect(Math.max(...times)).toBeLessThan(300 * 10)
    // After 3 failures the circuit is open: the last 10 requests never touch memcached (the cooldown is an hour).
    expect(calls).toBe(callsBefore[10])
    expect(callsBefore[10]).toBeGreaterThanOrEqual(3)
    expect(cache.stats().tiers[1]?.errors).toBeGreaterThanOrEqual(20)
  })
})
