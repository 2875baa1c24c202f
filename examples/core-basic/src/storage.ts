import { createCache, memoryStore, type CacheEvent } from '@tiercache/core'
import { createCodec, perTier } from '@tiercache/core/codec'
import { devalueSerializer } from '@tiercache/core/devalue'
import { msgpackSerializer } from '@tiercache/core/msgpack'
import { z } from 'zod'
import { remoteStore } from './remote-store.js'

/** Values JSON cannot hold, and compression above 1 KiB, on the tier outside the process. */
export async function structuredValues() {
  const redis = remoteStore('redis')
  const cache = createCache({
    tiers: [memoryStore(), redis],
    policy: { ttl: '10m' },
    // Dates, Maps, Sets, BigInts, typed arrays, undefined and cycles come back as they went in.
    codec: createCodec({ serializer: devalueSerializer, compression: { threshold: 1024 } }),
  })
  const order = { id: 42n, placedAt: new Date('2026-01-02T03:04:05Z'), items: new Map([['sku-1', 2]]), log: 'shipped '.repeat(300) }
  await cache.set('order:42', order)

  // Another process (an empty memory tier) reads it from the shared tier.
  const other = createCache({ tiers: [memoryStore(), redis], policy: { ttl: '10m' }, codec: createCodec({ serializer: devalueSerializer }) })
  const back = await other.get<typeof order>('order:42')
  return { back, stored: redis.data.get(':order:42'), saved: cache.stats().tiers[1]?.bytesSaved }
}

/** MessagePack: compact bytes, fast to encode and decode (no Maps, no cycles). */
export async function messagePack() {
  const redis = remoteStore('redis')
  const codec = createCodec({ serializer: msgpackSerializer() })
  await createCache({ tiers: [redis], policy: { ttl: '10m' }, codec }).set('session:1', { user: 7, since: new Date(0), roles: new Set(['admin']) })
  return createCache({ tiers: [memoryStore(), redis], policy: { ttl: '10m' }, codec }).get('session:1')
}

/** Encryption at rest: the shared tier holds ciphertext; key rotation keeps older entries readable. */
export async function encryptedAtRest(env: { CACHE_KEY_2026_06: string; CACHE_KEY_2026_12: string }) {
  const redis = remoteStore('redis')
  const before = createCache({
    tiers: [memoryStore(), redis],
    policy: { ttl: '1h' },
    codec: createCodec({ encryption: { keys: [{ id: '2026-06', key: env.CACHE_KEY_2026_06 }], current: '2026-06' } }),
  })
  await before.set('user:1', { email: 'ada@example.com' })

  // Rotation: writes use the current key, reads accept every key listed.
  const events: CacheEvent[] = []
  const cache = createCache({
    tiers: [memoryStore(), redis],
    policy: { ttl: '1h' },
    codec: createCodec({
      encryption: {
        keys: [
          { id: '2026-12', key: env.CACHE_KEY_2026_12 },
          { id: '2026-06', key: env.CACHE_KEY_2026_06 },
        ],
        current: '2026-12',
      },
    }),
    onEvent: (e) => events.push(e),
  })
  const old = await cache.get('user:1')
  await cache.set('user:2', { email: 'grace@example.com' })

  // A key that is not listed: a miss and a DECRYPT_ERROR event, never an exception, never plaintext.
  const withoutOld = createCache({
    tiers: [redis],
    policy: { ttl: '1h' },
    codec: createCodec({ encryption: { keys: [{ id: '2026-12', key: env.CACHE_KEY_2026_12 }], current: '2026-12' } }),
    onEvent: (e) => events.push(e),
  })
  const gone = await withoutOld.get('user:1')
  return { old, gone, stored: [...redis.data.values()], errors: events.flatMap((e) => (e.type === 'error' ? [e.error.code] : [])) }
}

/** Background re-encryption after a rotation: entries read under the old key are written again under the new one. */
export async function reencryptAfterRotation(env: { CACHE_KEY_2026_06: string; CACHE_KEY_2026_12: string }) {
  const redis = remoteStore('redis')
  const keys = [
    { id: '2026-12', key: env.CACHE_KEY_2026_12 },
    { id: '2026-06', key: env.CACHE_KEY_2026_06 },
  ]
  const before = createCache({ tiers: [redis], policy: { ttl: '1h' }, codec: createCodec({ encryption: { keys, current: '2026-06' } }) })
  await before.set('user:1', { email: 'ada@example.com' })

  const reencrypted: string[] = []
  const cache = createCache({
    tiers: [memoryStore(), redis],
    policy: { ttl: '1h' },
    // Off by default; at most 8 re-writes in flight, each reported as a 'reencrypt' event.
    codec: createCodec({ encryption: { keys, current: '2026-12', reencrypt: { maxPending: 8 } } }),
    onEvent: (e) => {
      if (e.type === 'reencrypt') reencrypted.push(`${e.key} in ${e.tier}`)
    },
  })
  const user = await cache.get('user:1')
  await cache.idle()
  return { user, reencrypted, stored: [...redis.data.values()].map((text) => JSON.parse(text).x as string) }
}

/** One codec per tier; larger values than a tier takes are not written there. */
export async function perTierAndSizes() {
  const kv = remoteStore('kv')
  const memcached = remoteStore('memcached', { maxValueBytes: 1_000_000 }) // a store's own limit
  const events: CacheEvent[] = []
  const cache = createCache({
    tiers: [memoryStore(), memcached, kv],
    policy: { ttl: '10m' },
    codec: perTier((store) =>
      store.name === 'kv' ? createCodec({ compression: true }) : createCodec({ maxValueBytes: 64 * 1024 }), // and the cache's
    ),
    onEvent: (e) => events.push(e),
  })
  const report = await cache.getOrSet('report:2026', () => ({ rows: 'x'.repeat(200_000) }))
  await cache.idle()
  return {
    answered: report?.rows.length,
    inMemcached: memcached.data.has(':report:2026'),
    inKv: kv.data.has(':report:2026'),
    tooLarge: events.flatMap((e) => (e.type === 'error' ? [`${e.error.code} ${e.tier}`] : [])),
  }
}

/** A Uint8Array or ArrayBuffer value needs no codec: bytes where the tier keeps bytes, base64 where it keeps text. */
export async function binaryValues() {
  const cache = createCache({ tiers: [memoryStore(), remoteStore()], policy: { ttl: '1h' } })
  const thumbnail = new Uint8Array([0x89, 0x50, 0x4e, 0x47])
  await cache.set('thumb:1', thumbnail)
  return cache.get<Uint8Array>('thumb:1')
}

/** A value written by an older version of the app: migrated when possible, else dropped and reloaded. */
export async function schemaChecks() {
  const redis = remoteStore('redis')
  // What last week's deployment left in the shared tier: `name` was one string.
  await createCache({ tiers: [redis], policy: { ttl: '1h' } }).set('user:7', { id: 7, name: 'Ada Lovelace' })

  const User = z.object({ id: z.number(), name: z.object({ first: z.string(), last: z.string() }) })
  type User = z.infer<typeof User>
  const events: CacheEvent[] = []
  const cache = createCache({ tiers: [memoryStore(), redis], onEvent: (e) => events.push(e) })
  const loadUser = async (): Promise<User> => ({ id: 7, name: { first: 'Ada', last: 'Lovelace' } })

  const user = await cache.getOrSet('user:7', loadUser, {
    ttl: '1h',
    schema: User, // any Standard Schema: zod, valibot, arktype
    migrate: (old) => {
      const { id, name } = old as { id: number; name: string }
      const [first = '', last = ''] = name.split(' ')
      return { id, name: { first, last } }
    },
  })
  // A loader answering the wrong shape fails the load (INVALID_VALUE) instead of caching it.
  const refused = await cache
    .getOrSet('user:8', async () => ({ id: 'eight' }) as unknown as User, { ttl: '1h', schema: User })
    .catch((e: { code: string }) => e.code)
  return { user, refused, invalid: events.filter((e) => e.type === 'invalid').map((e) => e.migrated) }
}
