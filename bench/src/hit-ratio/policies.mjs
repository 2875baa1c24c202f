// The caches the hit-ratio scenario replays traces through, each reduced to "hits on this trace at this capacity".
import { beladyHits, MaxHeap } from './belady.mjs'

/**
 * @typedef {object} Replay
 * @property {Int32Array} trace
 * @property {string[]} keys       key strings by id (built once, shared by every policy)
 * @property {number} capacity     entries the cache may hold
 * @property {Float64Array} [popularity]   each key's share of the reads, as the trace's generator draws them
 */

/**
 * @typedef {object} Policy
 * @property {string} id
 * @property {string} label
 * @property {(replay: Replay) => number | undefined} hits   undefined: the policy does not apply to this trace
 */

/** One entry object for every write: its times never run out on the store's fixed clock. */
const ENTRY = { value: 1, createdAt: 0, freshUntil: Number.MAX_SAFE_INTEGER, staleUntil: Number.MAX_SAFE_INTEGER }
const zero = () => 0

/**
 * @param {any} core   @tiercache/core
 * @param {'lru' | 'lfu' | 'fifo'} eviction
 * @returns {Policy}
 */
export function tiercachePolicy(core, eviction) {
  return {
    id: `tiercache-${eviction}`,
    label: `tiercache ${eviction.toUpperCase()}`,
    hits({ trace, keys, capacity }) {
      // peek/write are the store's synchronous reads and writes (what core calls on an in-process L1).
      const store = core.memoryStore({ maxEntries: capacity, eviction, now: zero })
      let hits = 0
      for (let i = 0; i < trace.length; i++) {
        const key = /** @type {string} */ (keys[/** @type {number} */ (trace[i])])
        if (store.peek(key) !== undefined) hits++
        else store.write(key, ENTRY, 0)
      }
      return hits
    },
  }
}

/**
 * @param {typeof import('lru-cache').LRUCache} LRUCache
 * @returns {Policy}
 */
export function lruCachePolicy(LRUCache) {
  return {
    id: 'lru-cache',
    label: 'lru-cache',
    hits({ trace, keys, capacity }) {
      const lru = new LRUCache({ max: capacity })
      let hits = 0
      for (let i = 0; i < trace.length; i++) {
        const key = /** @type {string} */ (keys[/** @type {number} */ (trace[i])])
        if (lru.get(key) !== undefined) hits++
        else lru.set(key, 1)
      }
      return hits
    },
  }
}

/** @type {Policy} */
export const optimalPolicy = {
  id: 'optimal',
  label: "Belady's optimal",
  hits({ trace, keys, capacity }) {
    return beladyHits(trace, keys.length, capacity)
  },
}

/**
 * The best any policy that ranks keys by frequency alone can do: it knows how often each key is read over the whole
 * trace and keeps the `capacity` most read ones from their first read on. Unlike Belady it cannot use the order of
 * future reads, so it is the ceiling for LFU on a trace without phases (an online LFU also has to learn the counts).
 * @type {Policy}
 */
export const topByCountPolicy = {
  id: 'top-by-count',
  label: 'most read keys (knows the counts)',
  hits({ trace, keys, capacity }) {
    const counts = new Int32Array(keys.length)
    for (let i = 0; i < trace.length; i++) counts[/** @type {number} */ (trace[i])]++
    const sorted = counts.sort().reverse()
    let hits = 0
    // Each kept key misses once, on its first read.
    for (let i = 0; i < capacity && i < sorted.length; i++) hits += Math.max(0, /** @type {number} */ (sorted[i]) - 1)
    return hits
  },
}

/**
 * An LFU that sees only the past but forgets nothing and has unbounded memory: it counts every read of every key
 * ever seen, exactly, and keeps the most counted ones; a newcomer replaces the least counted resident (the oldest of
 * them on a tie) only when its count, this read included, is higher. What W-TinyLFU approximates with a bounded
 * sketch: on traces without phases no frequency policy that learns online does much better.
 * @type {Policy}
 */
export const exactLfuPolicy = {
  id: 'exact-lfu',
  label: 'exact LFU (unbounded history)',
  hits({ trace, keys, capacity }) {
    const counts = new Int32Array(keys.length)
    const cached = new Uint8Array(keys.length)
    /** Residents by count, each set in insertion order (the oldest first). @type {Set<number>[]} */
    const byCount = []
    const bucket = (/** @type {number} */ c) => (byCount[c] ??= new Set())
    let size = 0
    let least = 1
    let hits = 0
    for (let i = 0; i < trace.length; i++) {
      const key = /** @type {number} */ (trace[i])
      const count = ++counts[key]
      if (cached[key] === 1) {
        hits++
        bucket(count - 1).delete(key)
        bucket(count).add(key)
        continue
      }
      if (size < capacity) {
        cached[key] = 1
        size++
        bucket(count).add(key)
        if (count < least) least = count
        continue
      }
      while (bucket(least).size === 0) least++
      if (count > least) {
        const residents = bucket(least)
        const victim = /** @type {number} */ (residents.values().next().value)
        residents.delete(victim)
        cached[victim] = 0
        cached[key] = 1
        bucket(count).add(key)
      }
    }
    return hits
  },
}

/**
 * A cache that knows each key's share of the reads, as the trace's generator draws them, and never has to learn it:
 * on a miss with a full cache the newcomer replaces the least popular resident if it is more popular, else is not
 * cached. When reads are independent draws this is the best any policy that sees only the past can do on average
 * (Aho, Denning and Ullman's A0, with bypass): an LFU that learns the counts online approaches it from below. Applies
 * to traces whose popularity does not move (TraceSpec.popularity).
 * @type {Policy}
 */
export const knownPopularityPolicy = {
  id: 'known-popularity',
  label: 'knows the popularity',
  hits({ trace, keys, capacity, popularity }) {
    if (popularity === undefined) return undefined
    // Keys by falling popularity: the heap keeps the least popular resident (highest place) on top.
    const place = new Int32Array(keys.length)
    Array.from({ length: keys.length }, (_, key) => key)
      .sort((a, b) => /** @type {number} */ (popularity[b]) - /** @type {number} */ (popularity[a]) || a - b)
      .forEach((key, i) => (place[key] = i))
    const heap = new MaxHeap(capacity + 1, keys.length)
    const cached = new Uint8Array(keys.length)
    let hits = 0
    for (let i = 0; i < trace.length; i++) {
      const key = /** @type {number} */ (trace[i])
      if (cached[key] === 1) hits++
      else if (heap.size < capacity || /** @type {number} */ (place[key]) < heap.topNext()) {
        if (heap.size === capacity) {
          cached[heap.topKey()] = 0
          heap.pop()
        }
        cached[key] = 1
        heap.push(/** @type {number} */ (place[key]), key)
      }
    }
    return hits
  },
}
