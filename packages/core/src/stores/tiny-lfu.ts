import { type EvictionOrder, grown, NONE, SlotLists } from './eviction.js'
import { FrequencySketch, hashKey } from './frequency-sketch.js'

/** Segments, as list numbers. */
const WINDOW = 0
const PROBATION = 1
const PROTECTED = 2

/** Share of the capacity given to the admission window (the rest is the main region). */
const WINDOW_SHARE = 0.01
/**
 * Share of the main region for entries read again after admission: PROTECTED_SHARE at first, then adapted between
 * PROTECTED_MIN and PROTECTED_MAX (see #adapt): high while keys read often come back, low while new keys need time for
 * their second read.
 */
const PROTECTED_SHARE = 0.8
const PROTECTED_MIN = 0.5
const PROTECTED_MAX = 0.95
/**
 * A newcomer counted fewer times than this never enters the main region: one read in the sketch's sample says nothing
 * of a key's popularity (most keys read once are never read again), and the resident it would push out was admitted.
 */
const ADMIT_MIN = 2
/** The fewest misses in a row, with no counted read between them, that make a scan (see #scanning). */
const SCAN_RUN = 8
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
 * W-TinyLFU (Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache Admission Policy", 2017): new entries
 * land in a small LRU window; one leaving the window enters the main region only if a frequency sketch says it is
 * seen more often than the entry it would push out. The main region is a segmented LRU: entries read again move from
 * probation to protected, so a burst of one-time keys (a scan) cycles through the window and never displaces the
 * frequently read set. Rules of ours on top: a warm tie goes to the newcomer (TIE_WINS), a newcomer counted once never
 * gets in (ADMIT_MIN), a small store counts over a longer sample than 10 x its size (MIN_SAMPLE), the protected share
 * adapts to the trace on misses (#adapt), and the misses of a scan are not counted (#scanning).
 * Per entry beyond the sketch: 1 byte (#demoted) and a 4-byte ghost once the store has filled.
 */
export class TinyLfuOrder implements EvictionOrder {
  readonly #lists: SlotLists
  readonly #maxEntries: number
  readonly #windowMax: number
  /** Most entries protected holds now (see PROTECTED_SHARE). */
  protectedMax: number
  /** Per slot: 1 while the entry is in probation because protected let it go (it had been read again there). */
  #demoted: Uint8Array
  /**
   * Ghosts of entries evicted from probation, by hash: the hash with its low bit replaced by the entry's #demoted
   * (one per bucket, a newer ghost overwrites an older one; at most one per entry of the full store). Made at the
   * first eviction: a store that never fills has none.
   */
  #ghosts: Int32Array | undefined
  /** Evictions from probation, never promoted [0] and demoted [1] (each from 1): the ghost rates #adapt weighs. */
  #evicted = [1, 1]
  /**
   * Increments between agings: 10 x the full store's slots from the start (at least MIN_SAMPLE), as the sketch of the
   * full store has. A sample sized by a store still filling would halve its counters before its hot keys reach 15, so
   * every read of them would pay for counting.
   */
  readonly #sampleSize: number
  #segment: Uint8Array
  #hashes: Int32Array
  /** Per slot: 1 + the sketch epoch in which its counters were found saturated (reads skip the sketch then). */
  #saturated: Uint16Array
  #sketch: FrequencySketch
  #seed = 0x2545f491
  /** Misses in a row with no counted read between them, halved by each miss that follows one (see #scanning). */
  #run = 0
  /** The sketch's additions right after the last miss: the same at the next miss when no read was counted between. */
  #mark = -1
  /**
   * Share of misses outside scans that followed the one before with no counted read between them (over about the
   * last 1,024): nearly all at first, so that a store sees no scan before it has seen hits.
   */
  #quiet = 0.999

  constructor(capacity: number, maxEntries: number) {
    this.#lists = new SlotLists(3, capacity)
    this.#maxEntries = maxEntries
    this.#windowMax = Math.max(1, Math.round(maxEntries * WINDOW_SHARE))
    this.protectedMax = (maxEntries - this.#windowMax) * PROTECTED_SHARE
    const sample = Math.max(maxEntries + 1, 4) * SAMPLE_PER_ENTRY
    this.#sampleSize = Math.max(sample, MIN_SAMPLE)
    this.#segment = new Uint8Array(capacity)
    this.#demoted = new Uint8Array(capacity)
    this.#hashes = new Int32Array(capacity)
    this.#saturated = new Uint16Array(capacity)
    this.#sketch = this.#newSketch(capacity)
  }

  grow(capacity: number): void {
    const hashes = this.#hashes
    const from = this.#sketch
    const to = (this.#sketch = this.#newSketch(capacity))
    // The sketch grows with the store (a store that never fills stays small) and keeps the counts of the slots' keys:
    // a store grows only while it is not full, so every slot it had is taken (or was, for a deleted entry: its key's
    // count moves too, as it would have stayed in the old sketch).
    for (const hash of hashes) for (let n = from.frequency(hash); n > 0; n--) to.increment(hash)
    this.#lists.grow(capacity)
    this.#segment = grown(this.#segment, capacity)
    this.#demoted = grown(this.#demoted, capacity)
    this.#hashes = grown(hashes, capacity)
    this.#saturated = new Uint16Array(capacity)
  }

  added(slot: number, key: string): void {
    const hash = hashKey(key)
    this.#adapt(hash)
    this.#demoted[slot] = 0
    this.#hashes[slot] = hash
    this.#saturated[slot] = 0
    const sketch = this.#sketch
    if (!this.#scanning(sketch)) sketch.increment(hash)
    this.#mark = sketch.additions
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
    if (this.#saturated[slot] !== (this.#sketch.epoch & 0xffff) + 1) this.#count(slot)
    const segment = this.#segment[slot] as number
    if (segment === PROBATION) this.#promote(slot)
    else this.#lists.toHead(segment, slot)
  }

  /** Counts a read of `slot`'s key, whose counters were not full; marks them full when they are. */
  #count(slot: number): void {
    const sketch = this.#sketch
    if (!sketch.increment(this.#hashes[slot] as number)) this.#saturated[slot] = (sketch.epoch & 0xffff) + 1
  }

  /** A probation entry read again moves to protected; protected's oldest goes back to probation when it is full. */
  #promote(slot: number): void {
    this.#move(slot, PROBATION, PROTECTED)
    this.#demoted[slot] = 0
    this.#demote()
  }

  #demote(): void {
    const lists = this.#lists
    while ((lists.sizes[PROTECTED] as number) > this.protectedMax) {
      const slot = lists.tails[PROTECTED] as number
      this.#move(slot, PROTECTED, PROBATION)
      this.#demoted[slot] = 1
    }
  }

  /**
   * A miss on a key evicted from probation lately moves the protected share, as ARC moves its target on a ghost hit
   * (Megiddo, Modha: "ARC: A Self-Tuning, Low Overhead Replacement Cache", 2003): an entry that was never promoted
   * would have been kept by a larger probation (share down), one that protected had let go by a larger protected
   * (share up). Each step is weighed by how much rarer that kind of eviction is than the other, so the share settles
   * where both kinds of ghost come back equally often. Misses only: hits never pay for it.
   */
  #adapt(hash: number): void {
    const ghosts = this.#ghosts
    if (ghosts === undefined) return
    const at = (hash >>> 0) % ghosts.length
    const ghost = ghosts[at] as number
    // An empty bucket (0) matches only the hashes 0 and 1.
    if (((ghost ^ hash) & ~1) !== 0) return
    ghosts[at] = 0
    const main = this.#maxEntries - this.#windowMax
    const [never, demoted] = this.#evicted as [number, number]
    const step = ghost & 1 ? Math.max(1, never / demoted) : -Math.max(1, demoted / never)
    this.protectedMax = Math.min(main * PROTECTED_MAX, Math.max(main * PROTECTED_MIN, this.protectedMax + step))
    this.#demote()
  }

  /** Leaves a ghost of probation's `slot`, evicted now (see #adapt). */
  #ghost(slot: number): number {
    const hash = this.#hashes[slot] as number
    const kind = this.#demoted[slot] as number
    const ghosts = (this.#ghosts ??= new Int32Array(this.#maxEntries))
    ghosts[(hash >>> 0) % ghosts.length] = (hash & ~1) | kind
    const evicted = this.#evicted
    evicted[kind] = (evicted[kind] as number) + 1
    return slot
  }

  /**
   * True while the misses look like a scan (a batch job reading many keys once): so many misses in a row with no read
   * counted between them that the trace's usual mix would make such a run about once in 1,000 misses. Their keys are
   * not counted: a scan's reads say nothing about which keys are popular, and counting them would crowd the sketch and
   * age it sooner. Misses only (a hit never pays for it), no state per key. A hit on a key whose counters are full is
   * not counted, so where most hits are on such keys most misses are quiet, runs are long and few are taken for scans.
   */
  #scanning(sketch: FrequencySketch): boolean {
    // An aging between two misses takes place in a counted read (and halves the additions).
    const quiet = sketch.additions === this.#mark
    this.#run = quiet ? this.#run + 1 : this.#run >>> 1
    // A run of n quiet misses comes about quiet^n of the time: 1 in 1,000 is e^-7.
    const scanRun = Math.max(SCAN_RUN, -7 / Math.log(this.#quiet))
    // A scan is no longer than the store: a longer run is counted again, so that keys are never all left uncounted.
    if (this.#run >= scanRun) return this.#run < scanRun + this.#maxEntries || ((this.#run = 0), false)
    this.#quiet += ((quiet ? 1 : 0) - this.#quiet) / 1024
    return false
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
      return this.#segment[mainVictim] === PROBATION ? this.#ghost(mainVictim) : mainVictim
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
    if (candidateFrequency < ADMIT_MIN) return false
    const victimFrequency = sketch.frequency(victimHash)
    if (candidateFrequency > victimFrequency) return true
    if (candidateFrequency === victimFrequency && candidateFrequency >= TIE_WINS) return true
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
    return new FrequencySketch(Math.min(Math.max(capacity, this.#sampleSize / SAMPLE_PER_ENTRY), capacity * MAX_SKETCH_SHARE), this.#sampleSize)
  }

  #move(slot: number, from: number, to: number): void {
    this.#lists.unlink(from, slot)
    this.#lists.pushHead(to, slot)
    this.#segment[slot] = to
  }
}
