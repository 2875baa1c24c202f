// The hot-hit loop for counting instructions instead of time (a count does not move with the machine's load):
//
//   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
//     node --single-threaded --max-semi-space-size=64 --hash-seed=1 --random-seed=1 src/instructions.mjs <adapter-id> <hits>
//
// Run it with 0 and with N hits: (instructions of N - instructions of 0) / N is the count per hit, warm-up and start-up
// left out. adapter-id: map, tiercache, tiercache-lfu, tiercache-fifo (TIERCACHE_CORE_MODULE works as in the bench).
//
// With a third argument `stale`, the reads are the stale scenario's bursts instead (any adapter with swr: tiercache,
// lru-cache-fetch, ...): keys past their ttl inside the swr window, read in bursts of 1,000 concurrent reads, each
// burst on one key whose refresh was started by a warm-up read and is held in flight to the end, so every counted read
// is one that joins a refresh in flight and answers the stale value.
import { adapterById } from './adapters/index.mjs'
import { tiercacheAdapter } from './adapters/tiercache.mjs'
import { compileLoop } from './harness.mjs'
import { primedSubject } from './scenarios/hot-hit.mjs'

const KEYS = 1_000
const WARM_UP = 300_000

const [id, hitsArg, mode] = process.argv.slice(2)
const hits = Number(hitsArg)
if (!id || !(hits >= 0) || (mode !== undefined && mode !== 'stale')) throw new Error('usage: instructions.mjs <adapter-id> <hits> [stale]')
if (mode === 'stale') {
  await staleReads(id, hits)
  process.exit(0)
}
const policy = /** @type {Record<string, 'lfu' | 'fifo'>} */ ({ 'tiercache-lfu': 'lfu', 'tiercache-fifo': 'fifo' })[id]
const adapter = policy === undefined ? adapterById(id) : tiercacheAdapter(policy)
await adapter.probe()
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`)
const { instance, loads } = await primedSubject(adapter, keys)
const loop = compileLoop(`instructions-${id}`)
let wrong = await loop(instance.getOrSet, keys, WARM_UP)
wrong += await loop(instance.getOrSet, keys, hits)
await instance.close?.()
if (wrong !== 0 || loads() !== KEYS) throw new Error(`${wrong} wrong values, ${loads() - KEYS} loads after priming`)

/**
 * `reads` stale reads in bursts of 1,000 (after as many warm-up reads), every one joining a refresh held in flight.
 * @param {string} id
 * @param {number} reads
 */
async function staleReads(id, reads) {
  const BURST = 1_000
  const TTL_MS = 50
  const adapter = adapterById(id)
  await adapter.probe()
  if (adapter.swr !== true) throw new Error(`${id} has no stale-while-revalidate`)
  /** @type {(() => void)[]} */
  const held = []
  let loads = 0
  let hold = false
  const instance = await adapter.create({
    ttlMs: TTL_MS,
    swrMs: 10 * 60_000,
    maxEntries: 10_000,
    load: (key) => {
      loads++
      const value = { k: key, version: hold ? 2 : 1 }
      return hold ? new Promise((resolve) => held.push(() => resolve(value))) : value
    },
  })
  const keys = Array.from({ length: KEYS }, (_, i) => `stale:${i}`)
  for (const key of keys) await instance.getOrSet(key)
  await new Promise((resolve) => setTimeout(resolve, TTL_MS + 20))
  hold = true
  // The first read of each key finds it stale and starts the refresh that every later read joins.
  for (const key of keys) await instance.getOrSet(key)
  const pending = new Array(BURST)
  let wrong = 0
  const bursts = async (/** @type {number} */ n) => {
    for (let done = 0, b = 0; done < n; b++) {
      const key = keys[b % KEYS]
      const size = Math.min(BURST, n - done)
      for (let i = 0; i < size; i++) pending[i] = instance.getOrSet(key)
      for (let i = 0; i < size; i++) {
        const value = await pending[i]
        if (value?.k !== key || value.version !== 1) wrong++
      }
      done += size
    }
  }
  await bursts(WARM_UP)
  await bursts(reads)
  if (wrong !== 0 || loads !== 2 * KEYS) throw new Error(`${wrong} reads not answered stale, ${loads - 2 * KEYS} loads besides one refresh per key`)
  for (const release of held) release()
  await instance.close?.()
}
