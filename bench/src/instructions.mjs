// The hot-hit loop for counting instructions instead of time (a count does not move with the machine's load):
//
//   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
//     node --single-threaded --max-semi-space-size=64 --hash-seed=1 --random-seed=1 src/instructions.mjs <adapter-id> <hits>
//
// Run it with 0 and with N hits: (instructions of N - instructions of 0) / N is the count per hit, warm-up and start-up
// left out. adapter-id: map, tiercache, tiercache-lfu, tiercache-fifo (TIERCACHE_CORE_MODULE works as in the bench).
import { adapterById } from './adapters/index.mjs'
import { tiercacheAdapter } from './adapters/tiercache.mjs'
import { compileLoop } from './harness.mjs'
import { primedSubject } from './scenarios/hot-hit.mjs'

const KEYS = 1_000
const WARM_UP = 300_000

const [id, hitsArg] = process.argv.slice(2)
const hits = Number(hitsArg)
if (!id || !(hits >= 0)) throw new Error('usage: instructions.mjs <adapter-id> <hits>')
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
