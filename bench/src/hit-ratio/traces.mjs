// Synthetic access traces for the hit-ratio scenario, generated here from a seed: the same seed and size give the
// same trace on every machine (tests pin a checksum). A trace is an Int32Array of key ids in 0..keySpace-1.

/**
 * A deterministic generator of floats in [0, 1) (mulberry32).
 * @param {number} seed
 * @returns {() => number}
 */
export function seeded(seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Draws ranks 0..n-1 with P(rank r) proportional to 1 / (r + 1)^skew, by binary search over the cumulative weights.
 * @param {number} n
 * @param {number} skew
 * @param {() => number} random
 * @returns {() => number}
 */
export function zipf(n, skew, random) {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let r = 0; r < n; r++) {
    sum += 1 / (r + 1) ** skew
    cdf[r] = sum
  }
  return () => {
    const u = random() * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (/** @type {number} */ (cdf[mid]) < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

/**
 * A seeded permutation of 0..n-1 (Fisher-Yates), so popularity ranks do not line up with key ids.
 * @param {number} n
 * @param {() => number} random
 */
export function permutation(n, random) {
  const p = new Int32Array(n)
  for (let i = 0; i < n; i++) p[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = /** @type {number} */ (p[i])
    p[i] = /** @type {number} */ (p[j])
    p[j] = t
  }
  return p
}

/**
 * @typedef {object} TraceSpec
 * @property {string} name
 * @property {string} description
 * @property {boolean} [scanMix]   one of the Zipf + scan/loop traces the LFU target is judged on
 * @property {(keySpace: number, length: number, seed: number) => Int32Array} generate
 * @property {(keySpace: number, seed: number) => Float64Array} [popularity]
 *   the share of all reads that goes to each key id, as the generator draws them (for a trace whose popularity does
 *   not move); a scan or loop read counts as its key's average share
 */

/**
 * The random source of a trace and its Zipf draws over a seeded permutation of the ids, so popularity ranks do not
 * line up with key ids. Every generator starts with it; `popularity` rebuilds the same permutation from the seed.
 * @param {number} keySpace
 * @param {number} skew
 * @param {number} seed
 */
function zipfSource(keySpace, skew, seed) {
  const random = seeded(seed)
  const rank = zipf(keySpace, skew, random)
  return { random, rank, keyOf: permutation(keySpace, random) }
}

/**
 * Each id's share of all reads when a `share` of them are Zipf draws from zipfSource(keySpace, skew, seed).
 * @param {number} keySpace
 * @param {number} skew
 * @param {number} seed
 * @param {number} share
 */
function zipfPopularity(keySpace, skew, seed, share) {
  const { keyOf } = zipfSource(keySpace, skew, seed)
  let sum = 0
  for (let r = 0; r < keySpace; r++) sum += 1 / (r + 1) ** skew
  const popularity = new Float64Array(keySpace)
  for (let r = 0; r < keySpace; r++) popularity[/** @type {number} */ (keyOf[r])] = (share / (r + 1) ** skew) / sum
  return popularity
}

/**
 * @param {number} skew
 * @returns {TraceSpec}
 */
function zipfTrace(skew) {
  return {
    name: `zipf-${skew}`,
    description: `independent draws, Zipf skew ${skew}`,
    popularity: (keySpace, seed) => zipfPopularity(keySpace, skew, seed, 1),
    generate(keySpace, length, seed) {
      const { rank, keyOf } = zipfSource(keySpace, skew, seed)
      const trace = new Int32Array(length)
      for (let i = 0; i < length; i++) trace[i] = /** @type {number} */ (keyOf[rank()])
      return trace
    },
  }
}

/** @type {TraceSpec[]} */
export const TRACES = [
  zipfTrace(0.7),
  zipfTrace(0.9),
  zipfTrace(1.1),
  {
    name: 'zipf-0.9+scan',
    description:
      'Zipf 0.9 with scans: a quarter of all accesses are bursts of keySpace/50 consecutive key ids from a random start (a batch job or crawler reading every key once)',
    scanMix: true,
    popularity(keySpace, seed) {
      // A scan starts anywhere: every id gets the same share of the scan quarter.
      return zipfPopularity(keySpace, 0.9, seed, 0.75).map((share) => share + 0.25 / keySpace)
    },
    generate(keySpace, length, seed) {
      const { random, rank, keyOf } = zipfSource(keySpace, 0.9, seed)
      const burst = Math.max(1, Math.floor(keySpace / 50))
      const trace = new Int32Array(length)
      let i = 0
      while (i < length) {
        // 3 bursts' worth of Zipf traffic per burst of scan: 25% scan.
        const zipfRun = Math.floor(random() * 6 * burst)
        for (let n = 0; n < zipfRun && i < length; n++) trace[i++] = /** @type {number} */ (keyOf[rank()])
        const start = Math.floor(random() * keySpace)
        for (let n = 0; n < burst && i < length; n++) trace[i++] = (start + n) % keySpace
      }
      return trace
    },
  },
  {
    name: 'zipf-0.9+loop',
    description:
      'Zipf 0.9 mixed one access in four with a loop: key ids 0..keySpace/5-1 read in order, over and over (twice the largest capacity, so LRU gets no loop hits)',
    scanMix: true,
    popularity(keySpace, seed) {
      const loop = Math.max(1, Math.floor(keySpace / 5))
      return zipfPopularity(keySpace, 0.9, seed, 0.75).map((share, id) => (id < loop ? share + 0.25 / loop : share))
    },
    generate(keySpace, length, seed) {
      const { random, rank, keyOf } = zipfSource(keySpace, 0.9, seed)
      const loop = Math.max(1, Math.floor(keySpace / 5))
      const trace = new Int32Array(length)
      let at = 0
      for (let i = 0; i < length; i++) {
        if (random() < 0.25) {
          trace[i] = at
          at = (at + 1) % loop
        } else {
          trace[i] = /** @type {number} */ (keyOf[rank()])
        }
      }
      return trace
    },
  },
  {
    name: 'shifting',
    description:
      'Zipf 0.9 whose popular set moves 8 times: at each phase the ranking is rotated by keySpace/8, so yesterday\'s hot keys go cold and cold ones become hot',
    generate(keySpace, length, seed) {
      const { rank, keyOf } = zipfSource(keySpace, 0.9, seed)
      const phases = 8
      const shift = Math.floor(keySpace / phases)
      const trace = new Int32Array(length)
      for (let i = 0; i < length; i++) {
        const phase = Math.floor((i * phases) / length)
        trace[i] = /** @type {number} */ (keyOf[(rank() + phase * shift) % keySpace])
      }
      return trace
    },
  },
]

/**
 * FNV-1a over the ids: pins a trace in tests and in the report.
 * @param {Int32Array} trace
 */
export function checksum(trace) {
  let h = 0x811c9dc5
  for (let i = 0; i < trace.length; i++) h = Math.imul(h ^ /** @type {number} */ (trace[i]), 0x01000193)
  return (h >>> 0).toString(16).padStart(8, '0')
}
