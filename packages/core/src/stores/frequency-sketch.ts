/**
 * A count-min sketch of 4-bit counters (conservative update) that estimates how often each key was seen recently, in a fixed amount of
 * memory (8 bytes per expected key). Each key maps to four counters; its estimate is the smallest of them, so
 * collisions can only overestimate. Counters stop at 15, and once `10 x capacity` increments have been counted every
 * counter is halved (aging), so popularity that has passed fades instead of pinning entries forever.
 *
 * The TinyLFU admission policy (Einziger, Friedman, Manes: "TinyLFU: A Highly Efficient Cache Admission Policy")
 * uses it to compare a newcomer with the entry it would replace.
 */
export class FrequencySketch {
  /** Eight 4-bit counters per word. */
  readonly #table: Uint32Array
  readonly #mask: number
  readonly #sampleSize: number
  #additions = 0
  #epoch = 0

  /**
   * `capacity` keys expected now; counters are halved every `sampleSize` increments (default 10 x capacity). A sketch
   * that grows with its store keeps the sample of the store's final size, so that hot keys of a store still filling
   * saturate and stop being counted (see `increment`) instead of being halved again and again.
   */
  constructor(capacity: number, sampleSize = Math.max(capacity, 4) * 10) {
    // 16 counters per expected key, a power of two so an index is a mask away.
    const counters = 2 ** Math.ceil(Math.log2(Math.max(capacity, 4))) * 16
    this.#table = new Uint32Array(counters / 8)
    this.#mask = counters - 1
    this.#sampleSize = sampleSize
  }

  /**
   * Counts one occurrence of the key whose `hashKey` is `hash`. False when its counters are all at 15 (nothing
   * counted): the caller may skip the key until the next aging (see `epoch`).
   */
  increment(hash: number): boolean {
    const table = this.#table
    const mask = this.#mask
    // Four counters by double hashing: hash + i * step, with an odd step from the high bits (int32 arithmetic).
    const step = ((hash >>> 16) | (hash << 16)) | 1
    const a = hash & mask
    const b = (hash + step) & mask
    const c = (hash + ((step << 1) | 0)) & mask
    const d = (hash + Math.imul(step, 3)) & mask
    const ca = count(table, a)
    const cb = count(table, b)
    const cc = count(table, c)
    const cd = count(table, d)
    let min = ca < cb ? ca : cb
    if (cc < min) min = cc
    if (cd < min) min = cd
    if (min === 15) return false
    // Conservative update: only the counters at the minimum grow, so a collision inflates no estimate by itself.
    if (ca === min) table[a >>> 3] = (table[a >>> 3] as number) + (1 << ((a & 7) << 2))
    if (cb === min) table[b >>> 3] = (table[b >>> 3] as number) + (1 << ((b & 7) << 2))
    if (cc === min) table[c >>> 3] = (table[c >>> 3] as number) + (1 << ((c & 7) << 2))
    if (cd === min) table[d >>> 3] = (table[d >>> 3] as number) + (1 << ((d & 7) << 2))
    if (++this.#additions >= this.#sampleSize) this.#age()
    return true
  }

  /** Grows by one at every aging: a key found saturated stays so until the epoch changes. */
  get epoch(): number {
    return this.#epoch
  }

  /** Estimated recent occurrences of the key whose hash is `hash`, 0 to 15. */
  frequency(hash: number): number {
    const table = this.#table
    const mask = this.#mask
    const step = ((hash >>> 16) | (hash << 16)) | 1
    return Math.min(
      count(table, hash & mask),
      count(table, (hash + step) & mask),
      count(table, (hash + ((step << 1) | 0)) & mask),
      count(table, (hash + Math.imul(step, 3)) & mask),
    )
  }

  /** Increments counted since the last aging. */
  get additions(): number {
    return this.#additions
  }

  /** Halves every counter (the top bit of each nibble is dropped by the mask after the shift). */
  #age(): void {
    const table = this.#table
    for (let i = 0; i < table.length; i++) table[i] = ((table[i] as number) >>> 1) & 0x77777777
    this.#additions = this.#additions >>> 1
    this.#epoch++
  }
}

function count(table: Uint32Array, index: number): number {
  return ((table[index >>> 3] as number) >>> ((index & 7) << 2)) & 15
}

/**
 * A 32-bit hash of a string (FNV-1a over UTF-16 code units, then a finalizer so nearby keys spread apart); `seed`
 * replaces FNV's offset basis (a store's index seeds it at random, so collisions cannot be planned).
 */
export function hashKey(key: string, seed = 0x811c9dc5): number {
  let h = seed
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return h ^ (h >>> 16)
}
