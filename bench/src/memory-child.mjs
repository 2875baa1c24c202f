// Child process for the memory scenario: fills one library's cache with N entries and prints the
// heap growth as JSON. Run as `node --expose-gc memory-child.mjs <adapter-id> <entries>`.
// With the id `payload` it measures the keys and values alone instead (see payload() below).
import { adapterById } from './adapters/index.mjs'
import { sleep } from './stats.mjs'

const [id, entriesArg] = process.argv.slice(2)
const entries = Number(entriesArg)
if (!id || !(entries > 0)) throw new Error('usage: memory-child.mjs <adapter-id | payload> <entries>')
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc')
const gc = globalThis.gc

/** Heap in use, plus ArrayBuffer backing stores (off-heap; lru-cache keeps its lists in typed arrays). */
function used() {
  for (let i = 0; i < 4; i++) gc()
  const m = process.memoryUsage()
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers }
}

/**
 * The bytes of what every cache is asked to hold, without any structure around it: the N key strings
 * (`key:<i>`, built the way the fill builds them) and the N values the loader returns (`{ k, id, ok }`,
 * whose `k` is the key). They are held by a plain array, whose own slots are then measured the same way
 * (an array of N references to one shared object, grown by the same pushes) and subtracted.
 */
function payload() {
  const before = used()
  /** @type {unknown[]} */
  const values = []
  for (let i = 0; i < entries; i++) {
    const key = `key:${i}`
    values.push({ k: key, id: i + 1, ok: true })
  }
  const withValues = used()
  const shared = { k: 'key:0', id: 0, ok: true }
  /** @type {unknown[]} */
  const slots = []
  for (let i = 0; i < entries; i++) slots.push(shared)
  const withSlots = used()
  if (values.length !== entries || slots.length !== entries) throw new Error('lost entries')
  const arrayBytes = withSlots.heapUsed - withValues.heapUsed
  return { id, entries, loads: entries, evictedInSample: 0, heapBytes: withValues.heapUsed - before.heapUsed - arrayBytes, arrayBufferBytes: 0, arrayBytes }
}

if (id === 'payload') {
  process.stdout.write(`${JSON.stringify(payload())}\n`)
  process.exit(0)
}

const adapter = adapterById(id)
await adapter.probe()
let loads = 0
const load = (/** @type {string} */ key) => {
  loads++
  return { k: key, id: loads, ok: true }
}
// One throwaway instance first, so code paths and lazy module state are paid for before measuring.
const warm = await adapter.create({ ttlMs: 600_000, maxEntries: 100, load })
for (let i = 0; i < 100; i++) await warm.getOrSet(`warm:${i}`)
await warm.close?.()
await sleep(20)
loads = 0

const before = used()
const instance = await adapter.create({ ttlMs: 600_000, maxEntries: entries, load })
for (let i = 0; i < entries; i++) await instance.getOrSet(`key:${i}`)
await sleep(50) // background writes
const after = used()

// The instance must still hold everything it was given: read back a sample without loading.
const loadsAfterFill = loads
for (let i = 0; i < entries; i += Math.ceil(entries / 1000)) {
  const value = await instance.getOrSet(`key:${i}`)
  if (value?.k !== `key:${i}`) throw new Error(`key:${i} came back as ${JSON.stringify(value)}`)
}
const evicted = loads - loadsAfterFill
await instance.close?.()

process.stdout.write(
  `${JSON.stringify({
    id,
    entries,
    loads: loadsAfterFill,
    evictedInSample: evicted,
    heapBytes: after.heapUsed - before.heapUsed,
    arrayBufferBytes: after.arrayBuffers - before.arrayBuffers,
  })}\n`,
)
