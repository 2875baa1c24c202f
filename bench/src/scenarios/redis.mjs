// Scenario: Redis as the shared L2 on a server (issue 14). Every library reads from the same redis-server through
// its own TCP proxy (testkit's startTcpProxy), which counts round trips: a hit (one key) and a batch of 100 keys,
// with no L1 in front, so every read is a Redis read. Raw ioredis GET / MGET is the baseline.
import { interleave, startClock, sinceNs } from '../harness.mjs'
import { ratioRows } from '../rows.mjs'
import { fmtNum, summarize } from '../stats.mjs'
import { withStarted } from '../started.mjs'

const KEYS = 100
const VALUE = { id: 1, name: 'Walnut desk lamp', price: 1_637, stock: 13, tags: ['lamp', 'desk'], description: 'x'.repeat(200) }

/**
 * @typedef {object} Subject
 * @property {string} label
 * @property {string} usage
 * @property {(url: string) => Promise<{ hit(key: string): Promise<unknown>, many(keys: string[]): Promise<unknown[]>, fill(keys: string[]): Promise<void>, close(): Promise<void> }>} open
 */

/** @type {Subject[]} */
const subjects = [
  {
    label: 'ioredis GET / MGET (baseline)',
    usage: '`client.get(key)`, `client.mget(...keys)` and JSON.parse: the floor for any Redis cache',
    async open(url) {
      const { Redis } = await import('ioredis')
      const client = new Redis(url)
      return {
        hit: async (key) => JSON.parse(/** @type {string} */ (await client.get(key))),
        many: async (keys) => (await client.mget(...keys)).map((raw) => JSON.parse(/** @type {string} */ (raw))),
        fill: async (keys) => {
          await client.mset(...keys.flatMap((k) => [k, JSON.stringify(VALUE)]))
        },
        close: async () => {
          await client.quit()
        },
      }
    },
  },
  {
    label: 'tiercache redisStore',
    usage: '`createCache({ tiers: [redisStore({ client })] })` (ioredis, no L1): `getOrSet(key, load)`, `getManyOrSet(keys, loadMany)`',
    async open(url) {
      const { Redis } = await import('ioredis')
      const { createCache } = await import('@tiercache/core')
      const { redisStore } = await import('@tiercache/redis')
      const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 })
      await new Promise((resolve) => client.once('ready', resolve))
      const cache = createCache({ tiers: [redisStore({ client, prefix: 'bench:tc:' })], policy: { ttl: '1h' } })
      const load = () => VALUE
      return {
        hit: (key) => cache.getOrSet(key, load),
        many: (keys) => cache.getManyOrSet(keys, (missing) => missing.map(() => VALUE)),
        fill: async (keys) => {
          await cache.getManyOrSet(keys, (missing) => missing.map(() => VALUE))
          await cache.idle()
        },
        close: async () => {
          await client.quit()
        },
      }
    },
  },
  {
    label: 'bentocache (redis driver, L2 only)',
    usage: '`bentostore().useL2Layer(redisDriver({ connection: ioredis }))`: `getOrSet({ key, factory })`; it has no batch read, so 100 keys are 100 concurrent getOrSet',
    async open(url) {
      const { Redis } = await import('ioredis')
      const { BentoCache, bentostore } = await import('bentocache')
      const { redisDriver } = await import('bentocache/drivers/redis')
      const connection = new Redis(url)
      const bento = new BentoCache({ default: 'redis', stores: { redis: bentostore().useL2Layer(redisDriver({ connection, prefix: 'bench:bento' })) } })
      const factory = () => VALUE
      return {
        hit: (key) => bento.getOrSet({ key, factory, ttl: '1h' }),
        many: (keys) => Promise.all(keys.map((key) => bento.getOrSet({ key, factory, ttl: '1h' }))),
        fill: async (keys) => {
          await Promise.all(keys.map((key) => bento.set({ key, value: VALUE, ttl: '1h' })))
        },
        close: async () => {
          await bento.disconnectAll()
          connection.disconnect()
        },
      }
    },
  },
  {
    label: 'cache-manager + @keyv/redis',
    usage: '`createCache({ stores: [new Keyv({ store: new KeyvRedis(url), namespace })] })` (node-redis): `wrap(key, fn, ttl)`, `mget(keys)`',
    async open(url) {
      const { createCache } = await import('cache-manager')
      const { Keyv } = await import('keyv')
      const { default: KeyvRedis } = await import('@keyv/redis')
      const store = new KeyvRedis(url)
      const keyv = new Keyv({ store, namespace: 'bench-cm' })
      const cache = createCache({ stores: [keyv] })
      const fn = async () => VALUE
      return {
        hit: (key) => cache.wrap(key, fn, 3_600_000),
        many: (keys) => cache.mget(keys),
        fill: async (keys) => {
          await cache.mset(keys.map((key) => ({ key, value: VALUE, ttl: 3_600_000 })))
        },
        close: async () => {
          await cache.disconnect()
        },
      }
    },
  },
]

/** @type {import('./types.mjs').Scenario} */
export default {
  name: 'redis',
  async run({ quick, log }) {
    const title = 'Redis L2 on a server: a hit and getMany(100), round trips and latency'
    return withStarted({ title, needs: 'needs redis-server (apt-get install redis-server) and the bench devDependencies', log }, async (stopLater) => {
      const { startRedis, startTcpProxy } = await import('@tiercache/testkit')
      const redis = await startRedis()
      stopLater(() => redis.stop())
      const hits = quick ? 500 : 2_000
      const batches = quick ? 50 : 200
      const rounds = quick ? 3 : 5
      const keys = Array.from({ length: KEYS }, (_, i) => `product:${i}`)
      // Commands Redis executed, read between phases on a connection of its own (its INFO counts as one).
      const { Redis } = await import('ioredis')
      const admin = new Redis(redis.url)
      stopLater(() => admin.quit())
      const commands = async () => {
        const stats = await admin.info('stats')
        return Number(/total_commands_processed:(\d+)/.exec(stats)?.[1] ?? Number.NaN)
      }

      /** @typedef {{ hitTrips: number[], manyTrips: number[], manyUs: number[], manyCommands: number[] }} Extra */
      /** @type {Map<Subject, Extra>} */
      const extra = new Map(subjects.map((s) => [s, { hitTrips: [], manyTrips: [], manyUs: [], manyCommands: [] }]))
      /** @type {Map<Subject, Awaited<ReturnType<Subject['open']>>>} */
      const open = new Map()
      /** @type {Map<Subject, import('@tiercache/testkit').TcpProxy>} */
      const proxies = new Map()
      for (const subject of subjects) {
        const proxy = await startTcpProxy({ targetPort: redis.port })
        stopLater(() => proxy.stop())
        proxies.set(subject, proxy)
        const instance = await subject.open(proxy.url)
        stopLater(() => instance.close())
        open.set(subject, instance)
        await instance.fill(keys)
        // Each answers every key from Redis before measuring (a miss here would be a bug).
        const values = await instance.many(keys)
        if (values.length !== KEYS || values.some((v) => /** @type {any} */ (v)?.name !== VALUE.name)) {
          throw new Error(`${subject.label}: getMany did not answer every filled key`)
        }
      }

      const results = await interleave({
        subjects,
        rounds,
        label: (s) => s.label,
        log,
        async slice(subject, round) {
          const instance = /** @type {NonNullable<ReturnType<typeof open.get>>} */ (open.get(subject))
          const proxy = /** @type {import('@tiercache/testkit').TcpProxy} */ (proxies.get(subject))
          proxy.resetStats()
          const started = startClock()
          for (let i = 0; i < hits; i++) {
            const value = await instance.hit(/** @type {string} */ (keys[i % KEYS]))
            if (/** @type {any} */ (value)?.name !== VALUE.name) throw new Error(`${subject.label}: a hit answered ${JSON.stringify(value)}`)
          }
          const hitUs = sinceNs(started) / hits / 1_000
          const hitTrips = proxy.stats().roundTrips / hits
          proxy.resetStats()
          const commandsBefore = await commands()
          const manyStarted = startClock()
          for (let i = 0; i < batches; i++) await instance.many(keys)
          const manyUs = sinceNs(manyStarted) / batches / 1_000
          const manyTrips = proxy.stats().roundTrips / batches
          const manyCommands = ((await commands()) - commandsBefore - 1) / batches
          if (round >= 0) {
            const e = /** @type {Extra} */ (extra.get(subject))
            e.hitTrips.push(hitTrips)
            e.manyTrips.push(manyTrips)
            e.manyUs.push(manyUs)
            e.manyCommands.push(manyCommands)
          }
          return hitUs
        },
      })

      const baseline = subjects[0]
      const base = /** @type {Extra} */ (extra.get(/** @type {Subject} */ (baseline))).manyUs
      const baseMany = base.length ? summarize(base).median : Number.NaN
      const fmtUs = (/** @type {number} */ us) => `${fmtNum(us)} µs`
      const rows = ratioRows({
        subjects,
        results,
        baseline,
        label: (s) => s.label,
        fmt: fmtUs,
        target: 1.5,
        extra: (s) => {
          const e = /** @type {Extra} */ (extra.get(s))
          if (!e.manyUs.length) return ['', '', '', '', '']
          const many = summarize(e.manyUs).median
          return [
            fmtNum(summarize(e.hitTrips).median),
            fmtUs(many),
            s === baseline ? '1.00x (baseline)' : `${(many / baseMany).toFixed(2)}x`,
            fmtNum(summarize(e.manyTrips).median),
            fmtNum(summarize(e.manyCommands).median),
          ]
        },
      })
      return {
        title,
        description:
          'One redis-server on 127.0.0.1; each library has its own connection through its own TCP proxy, which counts ' +
          'round trips (a burst of requests sent before the previous answer counts once: 100 GETs written in one tick are one ' +
          'round trip but 100 commands, counted from INFO stats). No L1: every read is a Redis read. ' +
          `Per round: ${hits} sequential hits over ${KEYS} keys, then ${batches} reads of all ${KEYS} keys at once; ` +
          `${rounds} interleaved rounds, medians. Ratios are to raw ioredis GET / MGET + JSON.parse.`,
        columns: ['library', 'hit', 'spread', 'hit ratio', 'round trips / hit', 'getMany(100)', 'getMany ratio', 'round trips / getMany', 'Redis commands / getMany', 'hit <= 1.5x'],
        rows,
        notes: subjects.map((s) => `${s.label}: ${s.usage}`),
      }
    })
  },
}
