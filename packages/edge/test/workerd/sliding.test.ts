// Sliding expiry on the edge tiers (issue 15: "in every tier that holds it, without a write per read"): the real
// Cache API as L1 and Upstash (real @upstash/redis, an endpoint over a real redis-server, its requests counted) as
// L2, on an injected clock. A read moves the session on in both tiers, at most one write per session per tenth of the
// ttl, never past maxAge; an unread session ends on time.
import { createCache, slidingExpiry, type Cache } from '@tiercache/core'
import { describe, expect, it } from 'vitest'
import { cacheApiStore, upstashStore } from '../../src/index'
import { manualClock, redisFor, resetStats, statsOf, unique, withOwnEndpoint, type OwnEndpoint } from '../support/services'

let endpoint: OwnEndpoint
withOwnEndpoint((own) => {
  endpoint = own
})

const MINUTE = 60_000

describe('sliding expiry with cacheApiStore + upstashStore', () => {
  it('a read extends the session in the Cache API and in Upstash, one write per session per tenth of the ttl, never past maxAge', async () => {
    const clock = manualClock()
    const started = clock.now()
    const at = (minutes: number): void => clock.advance(started + minutes * MINUTE - clock.now())
    const redis = redisFor(endpoint)
    const cache = createCache({
      tiers: [cacheApiStore({ cacheName: unique('sliding'), now: clock.now }), upstashStore({ redis, now: clock.now })],
      strategies: [slidingExpiry()],
      policy: { ttl: '30m', sliding: true, maxAge: '2h' },
      now: clock.now,
      tierTimeout: '10s',
    })
    /** Another isolate: Upstash alone, no sliding. What it sees is what Upstash holds. */
    const upstashOnly: Cache = createCache({
      tiers: [upstashStore({ redis, now: clock.now })],
      policy: { ttl: '30m' },
      now: clock.now,
      tierTimeout: '10s',
    })
    let logins = 0
    const login = ({ key }: { key: string }) => ({ user: key, login: ++logins })
    const sessions = Array.from({ length: 10 }, (_, i) => `session:${i}`)
    await Promise.all(sessions.map((key) => cache.getOrSet(key, login)))
    await cache.idle()
    expect(logins).toBe(10)

    // 20 minutes on, sessions 0..8 are read (session 9, the control, is not): the Cache API answers, and each session
    // is extended in Upstash by one SET. (Touches go out together when their reads end in one turn of the event loop;
    // reads of an async L1 such as the Cache API end in turns of their own, so here it is one request per session.)
    at(20)
    await resetStats(endpoint)
    await Promise.all(sessions.slice(0, 9).map((key) => cache.getOrSet(key, login)))
    await cache.idle()
    expect(logins).toBe(10)
    expect((await statsOf(endpoint)).byCommand).toEqual({ SET: 9 })
    // Read again within a tenth of the ttl (3 minutes): no write at all.
    at(22)
    await resetStats(endpoint)
    for (let round = 0; round < 3; round++) await Promise.all(sessions.slice(0, 9).map((key) => cache.getOrSet(key, login)))
    await cache.idle()
    expect((await statsOf(endpoint)).requests).toBe(0)

    // At 45 minutes (past the first 30): Upstash holds the nine until 52 minutes, session 9 ended at 30...
    at(45)
    for (const key of sessions.slice(0, 9)) expect(await upstashOnly.get(key)).toMatchObject({ user: key })
    expect(await upstashOnly.get('session:9')).toBeUndefined()
    // ...and so does the Cache API: the nine are answered there without reading Upstash (only the touches reach it).
    await resetStats(endpoint)
    await Promise.all(sessions.slice(0, 9).map((key) => cache.getOrSet(key, login)))
    await cache.idle()
    expect(logins).toBe(10)
    expect((await statsOf(endpoint)).byCommand).toEqual({ SET: 9 })

    // Read every 20 minutes from then on: the nine end only at maxAge (2 h after their login), everywhere.
    for (let m = 65; m <= 105; m += 20) {
      at(m)
      await Promise.all(sessions.slice(0, 9).map((key) => cache.getOrSet(key, login)))
      await cache.idle()
    }
    expect(logins).toBe(10)
    at(121)
    for (const key of sessions.slice(0, 9)) expect(await upstashOnly.get(key)).toBeUndefined()
    await Promise.all(sessions.slice(0, 9).map((key) => cache.getOrSet(key, login)))
    await cache.idle()
    expect(logins).toBe(19)
  })
})
