// Child process of profile.mjs: runs one library's workload of a scenario for a while, under `node --cpu-prof`,
// set up as that scenario sets it up. Run as
// `node --cpu-prof --cpu-prof-dir=<dir> profile-child.mjs <kind> <adapter-id> <ms>`, kind one of KINDS.
import { adapterById } from './adapters/index.mjs'
import { compileLoop } from './harness.mjs'
import { sleep } from './stats.mjs'

const [kind, id, msArg] = process.argv.slice(2)
const ms = Number(msArg)
const adapter = adapterById(id ?? '')
await adapter.probe()
const deadline = performance.now() + ms
const load = (/** @type {string} */ key) => ({ k: key })

/** @type {Record<string, () => Promise<void>>} */
const KINDS = {
  /** hot-hit.mjs: getOrSet on 1,000 primed keys in rotation. */
  async 'hot-hit'() {
    const keys = Array.from({ length: 1_000 }, (_, i) => `user:${i}`)
    const loop = compileLoop(`hot-${id}`)
    const instance = await adapter.create({ ttlMs: 10 * 60_000, maxEntries: 10_000, load })
    for (const key of keys) await instance.getOrSet(key)
    while (performance.now() < deadline) {
      if ((await loop(instance.getOrSet, keys, 100_000)) !== 0) throw new Error('wrong values')
    }
    await instance.close?.()
  },
  /** cold-miss.mjs: fresh caches taking 10,000 distinct missing keys each, immediate loader. */
  async 'cold-miss'() {
    const keys = Array.from({ length: 10_000 }, (_, i) => `miss:${i}`)
    const loop = compileLoop(`cold-${id}`)
    while (performance.now() < deadline) {
      const instance = await adapter.create({ ttlMs: 10 * 60_000, maxEntries: keys.length + 1, load })
      if ((await loop(instance.getOrSet, keys, keys.length)) !== 0) throw new Error('wrong values')
      await sleep(1)
      await instance.close?.()
    }
  },
  /** stampede.mjs: 10,000 concurrent calls on one missing key, 20 ms loader. */
  async stampede() {
    for (let round = 0; performance.now() < deadline; round++) {
      const instance = await adapter.create({
        ttlMs: 10 * 60_000,
        maxEntries: 1_000,
        load: async (key) => (await sleep(20), { k: key }),
      })
      const key = `stampede:${round}`
      await Promise.all(Array.from({ length: 10_000 }, () => instance.getOrSet(key)))
      await instance.close?.()
    }
  },
  /** stale.mjs (b): bursts of 1,000 concurrent reads, each burst on its own stale key, 20 ms refresh loader. */
  async stale() {
    const ttlMs = 50
    while (performance.now() < deadline) {
      let slow = false
      const instance = await adapter.create({
        ttlMs,
        swrMs: 60_000,
        maxEntries: 10_000,
        load: async (key) => {
          if (slow) await sleep(20)
          return { k: key }
        },
      })
      const keys = Array.from({ length: 10 }, (_, i) => `stale:burst:${i}`)
      await Promise.all(keys.map((key) => instance.getOrSet(key)))
      await sleep(ttlMs + 10)
      slow = true
      for (const key of keys) await Promise.all(Array.from({ length: 1_000 }, () => instance.getOrSet(key)))
      await sleep(30)
      await instance.close?.()
    }
  },
}

const workload = KINDS[kind ?? '']
if (!workload || !(ms > 0)) throw new Error(`usage: profile-child.mjs <${Object.keys(KINDS).join(' | ')}> <adapter-id> <ms>`)
await workload()
