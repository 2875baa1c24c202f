// Interleaved rounds: every subject gets one slice per round, in an order that rotates each round,
// so slow drifts of a noisy machine (thermal, neighbours, GC pressure) hit every subject alike.
import { collect } from './stats.mjs'

/**
 * @template S, R
 * @param {object} options
 * @param {S[]} options.subjects
 * @param {number} options.rounds           measured rounds
 * @param {number} [options.warmupRounds]   unmeasured rounds first (JIT warm-up)
 * @param {(subject: S, round: number) => Promise<R>} options.slice   one measurement; round < 0 is warm-up
 * @param {(subject: S) => string} options.label
 * @param {(line: string) => void} [options.log]
 * @returns {Promise<Map<S, { samples: R[], error?: string }>>}
 */
export async function interleave({ subjects, rounds, warmupRounds = 1, slice, label, log }) {
  /** @type {Map<S, { samples: R[], error?: string }>} */
  const results = new Map(subjects.map((s) => [s, { samples: [] }]))
  const n = subjects.length
  for (let round = 0 - warmupRounds; round < rounds; round++) {
    const offset = ((round % n) + n) % n
    for (let j = 0; j < n; j++) {
      const subject = /** @type {S} */ (subjects[(offset + j) % n])
      const result = must(results, subject)
      if (result.error) continue
      collect()
      try {
        const sample = await slice(subject, round)
        if (round >= 0) result.samples.push(sample)
      } catch (error) {
        // A subject that fails (wrong result, assertion, crash) is dropped from later rounds and
        // reported with its error instead of numbers.
        result.error = error instanceof Error ? error.message : String(error)
        log?.(`  ${label(subject)}: ${result.error}`)
      }
    }
    if (round >= 0) log?.(`  round ${round + 1}/${rounds} done`)
  }
  return results
}

/**
 * `map.get(key)` for state the caller put there itself; throws instead of returning undefined.
 * @template K, V
 * @param {Map<K, V>} map
 * @param {K} key
 * @returns {V}
 */
export function must(map, key) {
  const value = map.get(key)
  if (value === undefined) throw new Error(`no state for ${String(key)}`)
  return value
}

/**
 * Compile a fresh copy of a benchmark loop for one subject. Each copy has its own source text
 * (the tag) so V8 keeps separate type feedback per subject and the `getOrSet` call site stays
 * monomorphic; a shared loop would turn megamorphic and penalise whoever runs last.
 * The loop awaits `getOrSet(keys[i % keys.length])` n times, checks that each value belongs to its
 * key and returns the count of wrong values.
 * @param {string} tag
 * @returns {(getOrSet: (key: string) => Promise<any>, keys: string[], n: number) => Promise<number>}
 */
export function compileLoop(tag) {
  const safeTag = tag.replace(/[^a-zA-Z0-9_-]/g, '_')
  // eslint-disable-next-line no-new-func
  return /** @type {any} */ (new Function(
    'getOrSet',
    'keys',
    'n',
    `/* loop for ${safeTag} */
    return (async function loop_${safeTag.replace(/-/g, '_')}() {
      const size = keys.length
      let wrong = 0
      for (let i = 0; i < n; i++) {
        const key = keys[i % size]
        const value = await getOrSet(key)
        if (value === undefined || value === null || value.k !== key) wrong++
      }
      return wrong
    })()`,
  ))
}

/** A monotonic timestamp for `sinceNs`. */
export const startClock = () => process.hrtime.bigint()

/**
 * Nanoseconds elapsed since a `startClock()` value (the difference is taken in bigint, so no
 * precision is lost however long the machine has been up).
 * @param {bigint} start
 */
export const sinceNs = (start) => Number(process.hrtime.bigint() - start)
