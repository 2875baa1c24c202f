import { typeOf } from '../duration.js'
import { hashKey } from '../stores/frequency-sketch.js'
import { setup, type Installable, type Strategy } from './strategy.js'

/** One of the most read keys and its estimated read count. */
export interface HotKey {
  key: string
  reads: number
}

export interface HotKeysOptions {
  /** How many of the most read keys are kept by name (`cache.hotKeys(n)` answers up to this many). @default 1000 */
  track?: number
}

/**
 * Counts the reads of every key (getOrSet, get, getManyOrSet; hits and misses) so that `cache.hotKeys(n)` lists the
 * most read keys since the cache was created, for an app to save at shutdown and warm at start. Bounded memory: a
 * count-min sketch (4 rows of at least 32,768 32-bit counters, 32 per tracked key: 512 KiB for up to 1,024 tracked
 * keys) and the `track` keys with the highest estimates. Estimates can only be too high, by collisions: about one
 * read in 32,768 of all reads since start, much less on skewed traffic.
 *
 * @example
 * const cache = createCache({ tiers: [memoryStore()], strategies: [hotKeys({ track: 1_000 })] })
 * // at shutdown
 * await saveJson('hot-keys.json', cache.hotKeys(200).map((h) => h.key))
 */
export function hotKeys(options: HotKeysOptions = {}): Strategy {
  if (typeof options !== 'object' || options === null) throw new TypeError(`hotKeys(options) must be an object, got ${typeOf(options)}`)
  const { track = 1_000 } = options
  if (!Number.isInteger(track) || track < 1 || track > 100_000) {
    throw new RangeError(`options.track must be an integer from 1 to 100000 (keys kept by name), got ${String(track)}`)
  }
  const strategy: Installable = {
    setup,
    name: 'hotKeys',
    install() {
      const counter = new HotKeyCounter(track)
      return {
        read: (key) => counter.record(key),
        hotKeys(n) {
          if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${String(n)}`)
          if (n > track) throw new RangeError(`n must be at most the ${track} keys tracked (hotKeys({ track })), got ${n}`)
          return counter.list(n)
        },
      }
    },
  }
  return strategy
}

const ROWS = 4

/**
 * The most read keys since start, in bounded memory: a count-min sketch with conservative update counts every
 * read, and the `capacity` keys with the highest estimates are kept by name. A key that becomes popular later
 * displaces the least read one as soon as its estimate passes it.
 */
export class HotKeyCounter {
  readonly capacity: number
  readonly #table: Uint32Array
  readonly #mask: number
  readonly #top = new Map<string, number>()
  /** The smallest count in #top once it is full (the bar a newcomer must pass); -1 when unknown. */
  #floor = -1
  /** How many keys of #top are at #floor. */
  #atFloor = 0

  constructor(capacity: number) {
    this.capacity = capacity
    // Counts are kept since start, so the table must absorb the one-time keys of a long run (a scan).
    const width = 2 ** Math.ceil(Math.log2(Math.max(32_768, capacity * 32)))
    this.#table = new Uint32Array(width * ROWS)
    this.#mask = width - 1
  }

  /** Counts one read of `key`. */
  record(key: string): void {
    const top = this.#top
    const tracked = top.get(key)
    if (tracked !== undefined) {
      // A key kept by name counts there, exactly from its estimate on: no hashing on the hot path. Its counters
      // catch up when it leaves (#remember), so every estimate stays an upper bound.
      top.set(key, tracked + 1)
      // The bar moves when the last key at it was read again.
      if (tracked === this.#floor && --this.#atFloor === 0) this.#floor = -1
      return
    }
    const hash = hashKey(key)
    const table = this.#table
    const mask = this.#mask
    const width = mask + 1
    const step = ((hash >>> 16) | (hash << 16)) | 1
    let estimate = 0xffffffff
    for (let row = 0; row < ROWS; row++) {
      const count = table[row * width + ((hash + Math.imul(row, step)) & mask)] as number
      if (count < estimate) estimate = count
    }
    if (estimate !== 0xffffffff) {
      // Conservative update: only the counters at the minimum grow, so one-time keys colliding with each other
      // (a scan) inflate the estimates far less.
      for (let row = 0; row < ROWS; row++) {
        const index = row * width + ((hash + Math.imul(row, step)) & mask)
        if (table[index] === estimate) table[index] = estimate + 1
      }
      estimate++
    }
    if (top.size < this.capacity) {
      top.set(key, estimate)
      // The bar is found anew once the list just filled up.
      if (top.size === this.capacity) this.#floor = -1
      return
    }
    if (this.#floor === -1) this.#findFloor()
    if (estimate <= this.#floor) return
    // A newcomer passes the bar: the first key at it leaves.
    for (const [name, count] of top) {
      if (count === this.#floor) {
        top.delete(name)
        this.#remember(name, count)
        break
      }
    }
    top.set(key, estimate)
    if (--this.#atFloor === 0) this.#floor = -1
  }

  /** Raises the counters of a key leaving the list to its count there, so that its estimate never falls below it. */
  #remember(key: string, count: number): void {
    const hash = hashKey(key)
    const table = this.#table
    const mask = this.#mask
    const width = mask + 1
    const step = ((hash >>> 16) | (hash << 16)) | 1
    for (let row = 0; row < ROWS; row++) {
      const index = row * width + ((hash + Math.imul(row, step)) & mask)
      if ((table[index] as number) < count) table[index] = count
    }
  }

  /** The `n` most read keys, most read first (ties by key). */
  list(n: number): HotKey[] {
    return [...this.#top]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, n)
      .map(([key, reads]) => ({ key, reads }))
  }

  #findFloor(): void {
    let floor = Infinity
    let at = 0
    for (const count of this.#top.values()) {
      if (count < floor) {
        floor = count
        at = 1
      } else if (count === floor) at++
    }
    this.#floor = floor
    this.#atFloor = at
  }
}
