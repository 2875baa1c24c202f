import { checkFunction, parseOptionalDuration, typeOf } from '../duration.js'
import { lastServable, type Entry } from '../entry.js'
import type { EvictionReason, Store, StoreEvent, SyncHint } from '../store.js'
import { copyEntry } from '../tiered.js'
import { type EvictionOrder, type EvictionPolicy, FifoOrder, grown, LruOrder, NONE } from './eviction.js'
import { hashKey } from './frequency-sketch.js'
import { CREATED, FRESH, type KeyedHint, keyOf, SlotView, slots, STALE, TIMES } from './memory-slots.js'
import type { MemoryStoreOptions } from './memory-options.js'
import { estimateSize } from './estimate-size.js'
import { TinyLfuOrder } from './tiny-lfu.js'

const INITIAL_CAPACITY = 64

/**
 * A bounded in-process store (the usual L1), evicting by LRU unless told otherwise. Entries live in parallel typed
 * arrays rather than one object each, found through an index of int32 cells rather than a Map, which keeps memory
 * near 64 bytes per entry beyond the key and value (100,000 entries, LRU), and lets core answer a fresh hit without
 * allocating.
 *
 * Values are shared, not copied: a hit answers with the object stored here, so a caller that changes it changes
 * what every later caller reads. Treat cached values as read-only (copy, then `set` the copy to change one).
 *
 * @example
 * const cache = createCache({ tiers: [memoryStore({ maxEntries: 5_000, maxTtl: '30s' })], policy: { ttl: '5m' } })
 * const scanProof = memoryStore({ maxEntries: 5_000, eviction: 'lfu' })
 */
export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options)
}

export class MemoryStore implements Store {
  readonly name: string
  readonly maxTtl: number | undefined
  readonly timeout = 0
  readonly maxEntries: number
  readonly maxBytes: number
  readonly eviction: EvictionPolicy

  /**
   * The index from key to slot: open addressing with linear probing over a power of two of cells, each a slot + 1 (0
   * for none), at most half of them in use: 4 to 8 bytes an entry where a Map took about 37. Probing starts at the
   * key's hash seeded per store, so that keys chosen to pile up in one run of cells cannot be crafted from outside.
   */
  #cells: Int32Array
  readonly #seed = (Math.random() * 0x100000000) | 0
  // The per-slot arrays are allocated at #capacity (see slots): grown by writes past their end, V8 left up to half of
  // each unused.
  /**
   * Per slot, its key, or the getSync hint that found it last, which names the key: a hint that is still its slot's
   * proves the slot holds the hint's key with one comparison of objects (comparing the key strings costs a call per
   * hit), and needs no column of its own.
   */
  #keys: (string | KeyedHint | undefined)[]
  #values: unknown[]
  /** Entry.tags per slot; made on the first entry that has tags. */
  #tags: (readonly string[] | undefined)[] | undefined
  #times: Float64Array
  /** Entry.errorUntil per slot (NaN for none); made on the first entry that has one (staleIfError). */
  #errors: Float64Array | undefined
  #loadMs: Float32Array
  #negative: Uint8Array
  /** Entry.stamp per slot (NaN for none); made on the first entry that has one (only tagged entries do). */
  #stamps: Float64Array | undefined
  #order: EvictionOrder
  #sizes: Float64Array | undefined
  #bytes = 0
  #free: number[] = []
  #used = 0
  #capacity: number
  #sizeOf: (value: unknown) => number
  #now: () => number
  #clockFixed: boolean
  #listeners: ((event: StoreEvent) => void)[] = []
  /** What getSync hands out: reads the columns of slot `s` through getters, so a hit copies nothing. */
  readonly #view: SlotView

  constructor(options: MemoryStoreOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`memoryStore(options) must be an object, got ${typeOf(options)}`)
    }
    const { maxEntries = 10_000, maxBytes = Infinity, eviction = 'lru' } = options
    if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 0x7fffffff) {
      throw new RangeError(`options.maxEntries must be a positive integer, got ${String(maxEntries)}`)
    }
    if (typeof maxBytes !== 'number' || !(maxBytes > 0)) {
      throw new RangeError(`options.maxBytes must be a positive number, got ${String(maxBytes)}`)
    }
    if (eviction !== 'lru' && eviction !== 'lfu' && eviction !== 'fifo') {
      throw new RangeError(`options.eviction must be 'lru', 'lfu' or 'fifo', got ${String(eviction)}`)
    }
    checkFunction(options.sizeOf, 'options.sizeOf', true)
    if (options.now !== undefined && typeof options.now !== 'function') {
      throw new TypeError(`options.now must be a function returning epoch ms, got ${typeOf(options.now)}`)
    }
    this.name = options.name ?? 'memory'
    this.maxEntries = maxEntries
    this.maxBytes = maxBytes
    this.eviction = eviction
    this.maxTtl = parseOptionalDuration(options.maxTtl, 'options.maxTtl')
    if (this.maxTtl === 0) throw new RangeError('options.maxTtl must be greater than 0')
    this.#sizeOf = options.sizeOf ?? estimateSize
    this.#now = options.now ?? Date.now
    this.#clockFixed = options.now !== undefined
    // One slot beyond maxEntries: a newcomer is stored first, then the eviction order picks who leaves (under LFU
    // that can be the newcomer itself).
    this.#capacity = Math.min(maxEntries + 1, INITIAL_CAPACITY)
    this.#keys = slots(this.#capacity)
    this.#values = slots(this.#capacity)
    this.#cells = cellsFor(this.#capacity)
    this.#times = new Float64Array(this.#capacity * TIMES)
    this.#loadMs = new Float32Array(this.#capacity)
    this.#negative = new Uint8Array(this.#capacity)
    this.#order =
      eviction === 'lfu' ? new TinyLfuOrder(this.#capacity, maxEntries) : eviction === 'lru' ? new LruOrder(this.#capacity) : new FifoOrder(this.#capacity)
    if (maxBytes !== Infinity) this.#sizes = new Float64Array(this.#capacity)
    this.#view = new SlotView()
    this.#syncView()
  }

  /** Entries held now. */
  get size(): number {
    return this.#used - this.#free.length
  }

  /** Estimated bytes held now (0 unless maxBytes is set). */
  get bytes(): number {
    return this.#bytes
  }

  async get(key: string): Promise<Entry | undefined> {
    return this.peek(key)
  }

  async getMany(keys: readonly string[]): Promise<(Entry | undefined)[]> {
    return keys.map((key) => this.peek(key))
  }

  async set(key: string, entry: Entry): Promise<void> {
    this.write(key, entry)
  }

  async setMany(items: readonly (readonly [string, Entry])[]): Promise<void> {
    for (const [key, entry] of items) this.write(key, entry)
  }

  async delete(key: string): Promise<void> {
    const slot = this.#slotOf(key)
    if (slot >= 0) this.#remove(slot)
  }

  /** Drops every entry. */
  clear(): void {
    for (let slot = 0; slot < this.#used; slot++) if (this.#keys[slot] !== undefined) this.#remove(slot)
  }

  watch(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.push(listener)
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener)
    }
  }

  /** The entry under `key` without a promise, or undefined; drops it when past its last servable moment. */
  peek(key: string): Entry | undefined {
    const slot = this.#slotOf(key)
    if (slot < 0) return undefined
    const stale = this.#times[slot * TIMES + STALE] as number
    // No errorUntil column: undefined, never greater.
    const error = this.#errors?.[slot] as number
    if ((error > stale ? error : stale) <= this.#now()) {
      this.#remove(slot, 'expired')
      return undefined
    }
    this.#order.used(slot)
    const view = this.#view
    view.s = slot
    return copyEntry(view)
  }

  /** Stores an entry synchronously; `now` saves a clock read when the caller knows the time. */
  write(key: string, entry: Entry, now = this.#now()): void {
    const last = lastServable(entry)
    let cell = this.#cell(key)
    let slot = (this.#cells[cell] as number) - 1
    if (last <= now) {
      if (slot >= 0) this.#remove(slot)
      return
    }
    const added = slot < 0
    if (added) {
      const cells = this.#cells
      slot = this.#allocate()
      // Growing rebuilt the index: the free cell is elsewhere now.
      if (cells !== this.#cells) cell = this.#cell(key)
      this.#cells[cell] = slot + 1
      this.#keys[slot] = key
      this.#order.added(slot, key)
    } else {
      this.#order.used(slot)
    }
    const base = slot * TIMES
    const t = this.#times
    t[base + CREATED] = entry.createdAt
    t[base + FRESH] = entry.freshUntil
    t[base + STALE] = entry.staleUntil
    // The columns most entries do not need exist once one entry has needed them; a slot reused then clears its own.
    const errorUntil = entry.errorUntil
    if (errorUntil !== undefined || this.#errors !== undefined) (this.#errors ?? this.#makeErrors())[slot] = errorUntil ?? NaN
    this.#values[slot] = entry.value
    const tags = entry.tags
    if (tags !== undefined || this.#tags !== undefined) (this.#tags ?? this.#makeTags())[slot] = tags
    this.#negative[slot] = entry.negative === true ? 1 : 0
    this.#loadMs[slot] = entry.loadMs ?? NaN
    const stamp = entry.stamp
    if (stamp !== undefined || this.#stamps !== undefined) (this.#stamps ?? this.#makeStamps())[slot] = stamp ?? NaN
    const sizes = this.#sizes
    if (sizes !== undefined) {
      const size = key.length * 2 + this.#sizeOf(entry.value) + 64
      this.#bytes += size - (sizes[slot] as number)
      sizes[slot] = size
      while (this.#bytes > this.maxBytes) {
        const victim = this.#order.victim()
        if (victim === NONE) break
        this.#remove(victim, 'size')
      }
    }
    if (added && this.size > this.maxEntries) this.#remove(this.#order.victim(), 'capacity')
  }

  /**
   * The entry under `key` without a promise or an allocation (the Store sync capability core's L1 fast path uses),
   * marked as recently used; undefined when absent. The object returned is this store's one reusable view,
   * overwritten by the next call: read it at once, copy what you keep. Times are not judged here.
   */
  getSync(key: string, hint?: SyncHint): Entry | undefined {
    let slot: number
    if (hint === undefined) slot = this.#slotOf(key)
    else {
      // The slot noted at the last call, when it still holds this key.
      slot = hint.slot
      if (slot < 0 || this.#keys[slot] !== hint) {
        hint.slot = slot = this.#slotOf(key)
        if (slot < 0) return undefined
        // A hint that does not name this key (not one of core's) is only a place to note the slot.
        if ((hint as Partial<KeyedHint>).full === key) this.#keys[slot] = hint as KeyedHint
      }
    }
    if (slot < 0) return undefined
    this.#order.used(slot)
    const view = this.#view
    view.s = slot
    return view
  }

  /** Stores an entry synchronously (the Store sync capability); `now` saves a clock read when the caller knows it. */
  setSync(key: string, entry: Entry, now?: number): void {
    this.write(key, entry, now)
  }

  /** Follows the cache's injected clock, unless this store was built with its own `now`. */
  useClock(now: () => number): void {
    if (!this.#clockFixed) {
      this.#now = now
      this.#clockFixed = true
    }
  }

  #makeErrors(): Float64Array {
    const errors = new Float64Array(this.#capacity).fill(NaN)
    this.#errors = errors
    this.#view.er = errors
    return errors
  }

  #makeTags(): (readonly string[] | undefined)[] {
    const tags = slots<readonly string[]>(this.#capacity)
    this.#tags = tags
    this.#view.g = tags
    return tags
  }

  #makeStamps(): Float64Array {
    const stamps = new Float64Array(this.#capacity).fill(NaN)
    this.#stamps = stamps
    this.#view.st = stamps
    return stamps
  }

  #allocate(): number {
    const reused = this.#free.pop()
    if (reused !== undefined) return reused
    if (this.#used === this.#capacity) this.#grow(Math.min(this.maxEntries + 1, this.#capacity * 2))
    return this.#used++
  }

  #grow(capacity: number): void {
    this.#times = grown(this.#times, capacity * TIMES)
    this.#loadMs = grown(this.#loadMs, capacity)
    this.#negative = grown(this.#negative, capacity)
    this.#keys = slots(capacity, this.#keys)
    this.#values = slots(capacity, this.#values)
    // The columns made on first need grow once they exist.
    this.#tags &&= slots(capacity, this.#tags)
    this.#order.grow(capacity)
    this.#sizes &&= grown(this.#sizes, capacity)
    this.#stamps &&= grown(this.#stamps, capacity, NaN)
    this.#errors &&= grown(this.#errors, capacity, NaN)
    this.#capacity = capacity
    this.#cells = cellsFor(capacity)
    for (let slot = 0; slot < this.#used; slot++) {
      const held = this.#keys[slot]
      if (held !== undefined) this.#cells[this.#cell(keyOf(held))] = slot + 1
    }
    this.#syncView()
  }

  /** The slot holding `key`, or -1. */
  #slotOf(key: string): number {
    return (this.#cells[this.#cell(key)] as number) - 1
  }

  /** The cell that holds `key`'s slot, or else the empty cell where its probe ends. */
  #cell(key: string): number {
    const cells = this.#cells
    const mask = cells.length - 1
    let i = hashKey(key, this.#seed) & mask
    for (let held: number; (held = cells[i] as number) !== 0 && keyOf(this.#keys[held - 1] as string | KeyedHint) !== key; i = (i + 1) & mask);
    return i
  }

  /**
   * Empties `key`'s cell, moving back the cells after it in its run that may sit there (backward shift: no
   * tombstones, so runs stay as short as the entries in them make them).
   */
  #unindex(key: string): void {
    const cells = this.#cells
    const mask = cells.length - 1
    let hole = this.#cell(key)
    for (let i = (hole + 1) & mask, held: number; (held = cells[i] as number) !== 0; i = (i + 1) & mask) {
      const home = hashKey(keyOf(this.#keys[held - 1] as string | KeyedHint), this.#seed) & mask
      // The cell at i may move to the hole when its probe passed the hole on its way from home to i.
      if (((i - home) & mask) >= ((i - hole) & mask)) {
        cells[hole] = held
        hole = i
      }
    }
    cells[hole] = 0
  }

  /** Points the view at the current columns (grow and clear replace them). */
  #syncView(): void {
    const view = this.#view
    view.t = this.#times
    view.v = this.#values
    view.g = this.#tags
    view.n = this.#negative
    view.d = this.#loadMs
    view.st = this.#stamps
    view.er = this.#errors
  }

  #remove(slot: number, reason?: EvictionReason): void {
    const key = keyOf(this.#keys[slot] as string | KeyedHint)
    this.#unindex(key)
    this.#order.removed(slot)
    this.#keys[slot] = undefined
    this.#values[slot] = undefined
    if (this.#tags !== undefined) this.#tags[slot] = undefined
    if (this.#sizes !== undefined) {
      this.#bytes -= this.#sizes[slot] as number
      this.#sizes[slot] = 0
    }
    this.#free.push(slot)
    if (reason !== undefined && this.#listeners.length > 0) {
      const event: StoreEvent = { type: 'evict', key, reason }
      for (const listener of this.#listeners) listener(event)
    }
  }
}


/** Index cells for `capacity` slots: a power of two, at least twice as many. */
function cellsFor(capacity: number): Int32Array {
  return new Int32Array(2 ** Math.ceil(Math.log2(capacity) + 1))
}
