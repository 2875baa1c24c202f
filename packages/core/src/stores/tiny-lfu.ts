import { type EvictionOrder, NONE, SlotLists } from './eviction.js'
import { FrequencySketch, hashKey } from './frequency-sketch.js'

/** Segments, as list numbers. */
const WINDOW = 0
const PROBATION = 1
const PROTECTED = 2

/** Share of the capacity given to the admission window (the rest is the main region). */
const WINDOW_SHARE = 0.01
/** Share of the main region for entries read again after admission. */
const PROTECTED_SHARE = 0.8
/** A newcomer at least this frequent, when it loses, is still admitted once in 128 (see #admit). */
const WARM = 6
/**
 * A newcomer that ties with the victim at this frequency or more wins: both were read often, and the newcomer more
 * recently (a popular set that moved ties with the old one before its counts pass them). Below it, ties keep the
 * resident: a one-time key (a scan) counts 1.
 */
const TIE_WINS = 3
/** Increments between agings per entry of the full store (the TinyLFU paper's and Caffeine's 10). */
const SAMPLE_PER_ENTRY = 10
/**
 * Fewest increments between agings, whatever the store's size. The sketch ranks the keys near the eviction boundary
 * by the reads it saw of them in one sample; with 10 x maxEntries only, a small store's sample holds too few reads of
 * those keys (about one each) to tell them apart. Stores of 5,000 entries or more are not affected.
 */
const MIN_SAMPLE = 50_000
/** A longer sample sees more distinct keys: the sketch is sized for up to this many times the store's slots. */
const MAX_SKETCH_SHARE = 4
/**
 * A longer sample also forgets more slowly. A store on MIN_SAMPLE keeps a second, recent sketch (10 x maxEntries)
 * as well, for one question: has the victim gone cold (read at most COLD times lately) while the newcomer is hot
 * (HOT times or more)? Then the newcomer gets in even if the long count still favours the victim, so a popular set
 * that moved is not held out for several long samples.
 */
const COLD = 1
const HOT = 3

/**
 * W-TinyLFU (Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache Admission Policy", 2017): new entries
 * land in a small LRU window; one leaving the window enters the main region only if a frequency sketch says it is
 * seen more often than the entry it would push out. The main region is a segmented LRU: entries read again move from
 * probation to protected, so a burst of one-time keys (a scan) cycles through the window and never displaces the
 * frequently read set. Two rules of ours on top: a warm tie goes to the newcomer (TIE_WINS), and a small store counts
 * over a longer sample than 10 x its size, with a recent sketch beside it (MIN_SAMPLE, COLD, HOT).
 */
export class TinyLfuOrder implements EvictionOrder {
  readonly #lists: SlotLists
  readonly #maxEntries: number
  readonly #windowMax: number
  readonly #protectedMax: number
  /**
   * Increments between agings: 10 x the full store's slots from the start (at least MIN_SAMPLE), as the sketch of the
   * full store has. A sample sized by a store still filling would halve its counters before its hot keys reach 15, so
   * every read of them would pay for counting.
   */
  readonly #sampleSize: number
  /** The recent sketch's sample (10 x the full store's slots), when it is shorter than #sampleSize; else 0. */
  readonly #recentSampleSize: number
  #segment: Uint8Array
  #hashes: Int32Array
  /** Per slot: 1 + the sketch epoch in which its counters were found saturated (reads skip the sketch then). */
  #saturated: Uint16Array
  #sketch: FrequencySketch
  /** See COLD and HOT; only for stores small enough to be on MIN_SAMPLE. */
  #recent: FrequencySketch | undefined
  #recentSaturated: Uint16Array | undefined
  #seed = 0x2545f491

  constructor(capacity: number, maxEntries: number) {
    this.#lists = new SlotLists(3, capacity)
    this.#maxEntries = maxEntries
    this.#windowMax = Math.max(1, Math.round(maxEntries * WINDOW_SHARE))
    this.#protectedMax = Math.floor((maxEntries - this.#windowMax) * PROTECTED_SHARE)
    const sample = Math.max(maxEntries + 1, 4) * SAMPLE_PER_ENTRY
    this.#sampleSize = Math.max(sample, MIN_SAMPLE)
    this.#recentSampleSize = sample < MIN_SAMPLE ? sample : 0
    this.#segment = new Uint8Array(capacity)
    this.#hashes = new Int32Array(capacity)
    this.#saturated = new Uint16Array(capacity)
    this.#sketch = this.#newSketch(capacity)
    if (this.#recentSampleSize > 0) {
      this.#recent = new FrequencySketch(capacity, this.#recentSampleSize)
      this.#recentSaturated = new Uint16Array(capacity)
    }
  }

  /** Estimated recent reads and writes of `key` (0 to 15). */
  frequency(key: string): number {
    return this.#sketch.frequency(hashKey(key))
  }

  grow(capacity: number): void {
    this.#lists.grow(capacity)
    const segment = new Uint8Array(capacity)
    segment.set(this.#segment)
    this.#segment = segment
    const hashes = new Int32Array(capacity)
    hashes.set(this.#hashes)
    this.#hashes = hashes
    this.#saturated = new Uint16Array(capacity)
    // The sketches grow with the store (a store that never fills stays small); resident entries keep their counts.
    this.#sketch = this.#copyCounts(this.#sketch, this.#newSketch(capacity))
    if (this.#recent !== undefined) {
      this.#recent = this.#copyCounts(this.#recent, new FrequencySketch(capacity, this.#recentSampleSize))
      this.#recentSaturated = new Uint16Array(capacity)
    }
  }

  added(slot: number, key: string): void {
    const hash = hashKey(key)
    this.#hashes[slot] = hash
    this.#saturated[slot] = 0
    this.#sketch.increment(hash)
    this.#recent?.increment(hash)
    this.#segment[slot] = WINDOW
    const lists = this.#lists
    lists.pushHead(WINDOW, slot)
    // Until the store is full, the window's oldest entry passes to the main region without a contest.
    const sizes = lists.sizes
    if ((sizes[WINDOW] as number) > this.#windowMax && (sizes[WINDOW] as number) + (sizes[PROBATION] as number) + (sizes[PROTECTED] as number) <= this.#maxEntries) {
      this.#move(lists.tails[WINDOW] as number, WINDOW, PROBATION)
    }
  }

  /** Every LFU hit runs this; what only some hits need (counting, promotion) is in methods of their own. */
  used(slot: number): void {
    // A key read so often that its counters are full needs no counting until they are halved.
    if (this.#saturated[slot] !== (this.#sketch.epoch & 0xffff) + 1 || this.#recent !== undefined) this.#count(slot)
    const segment = this.#segment[slot] as number
    if (segment === PROBATION) this.#promote(slot)
    else this.#lists.toHead(segment, slot)
  }

  /** Counts a read of `slot`'s key in the sketches whose counters for it are not full. */
  #count(slot: number): void {
    const sketch = this.#sketch
    const mark = (sketch.epoch & 0xffff) + 1
    if (this.#saturated[slot] !== mark && !sketch.increment(this.#hashes[slot] as number)) this.#saturated[slot] = mark
    const recent = this.#recent
    if (recent !== undefined) {
      const saturated = this.#recentSaturated as Uint16Array
      const recentMark = (recent.epoch & 0xffff) + 1
      if (saturated[slot] !== recentMark && !recent.increment(this.#hashes[slot] as number)) saturated[slot] = recentMark
    }
  }

  /** A probation entry read again moves to protected; protected's oldest goes back to probation when it is full. */
  #promote(slot: number): void {
    const lists = this.#lists
    this.#move(slot, PROBATION, PROTECTED)
    if ((lists.sizes[PROTECTED] as number) > this.#protectedMax) this.#move(lists.tails[PROTECTED] as number, PROTECTED, PROBATION)
  }

  removed(slot: number): void {
    this.#lists.unlink(this.#segment[slot] as number, slot)
  }

  victim(): number {
    const { tails, sizes } = this.#lists
    const mainVictim = tails[PROBATION] !== NONE ? (tails[PROBATION] as number) : (tails[PROTECTED] as number)
    if ((sizes[WINDOW] as number) > this.#windowMax && mainVictim !== NONE) {
      // The window's oldest entry contests the main region's next victim; the loser leaves.
      const candidate = tails[WINDOW] as number
      if (!this.#admit(candidate, mainVictim)) return candidate
      this.#move(candidate, WINDOW, PROBATION)
      return mainVictim
    }
    return mainVictim !== NONE ? mainVictim : (tails[WINDOW] as number)
  }

  clear(): void {
    this.#lists.clear()
  }

  #admit(candidate: number, victim: number): boolean {
    const sketch = this.#sketch
    const candidateHash = this.#hashes[candidate] as number
    const victimHash = this.#hashes[victim] as number
    const candidateFrequency = sketch.frequency(candidateHash)
    const victimFrequency = sketch.frequency(victimHash)
    if (candidateFrequency > victimFrequency) return true
    if (candidateFrequency === victimFrequency && candidateFrequency >= TIE_WINS) return true
    const recent = this.#recent
    if (recent !== undefined && recent.frequency(victimHash) <= COLD && recent.frequency(candidateHash) >= HOT) return true
    if (candidateFrequency < WARM) return false
    // Keys crafted to collide with a victim's counters could keep it unbeatable; a warm newcomer sometimes wins
    // anyway (xorshift32: deterministic, so evictions are reproducible).
    let x = this.#seed
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.#seed = x
    return (x & 127) === 0
  }

  /** Sized for the distinct keys one sample may see: 10 increments per key, from 1 to MAX_SKETCH_SHARE per slot. */
  #newSketch(capacity: number): FrequencySketch {
    const keys = Math.max(capacity, Math.min(Math.ceil(this.#sampleSize / SAMPLE_PER_ENTRY), capacity * MAX_SKETCH_SHARE))
    return new FrequencySketch(keys, this.#sampleSize)
  }

  /** `to` with the counts `from` holds for the resident entries. */
  #copyCounts(from: FrequencySketch, to: FrequencySketch): FrequencySketch {
    const lists = this.#lists
    const hashes = this.#hashes
    for (let list = WINDOW; list <= PROTECTED; list++) {
      for (let slot = lists.heads[list] as number; slot !== NONE; slot = lists.next[slot] as number) {
        const hash = hashes[slot] as number
        for (let n = from.frequency(hash); n > 0; n--) to.increment(hash)
      }
    }
    return to
  }

  #move(slot: number, from: number, to: number): void {
    this.#lists.unlink(from, slot)
    this.#lists.pushHead(to, slot)
    this.#segment[slot] = to
  }
}
