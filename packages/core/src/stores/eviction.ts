/** Which entry a full memory store lets go of first. */
export type EvictionPolicy = 'lru' | 'lfu' | 'fifo'

/**
 * The order in which a memory store evicts its slots. The store keeps the entries; an order only sees slot numbers
 * (and the key when a slot is filled) and names the next victim.
 */
export interface EvictionOrder {
  /** Makes room for slots up to `capacity` (only ever grows). */
  grow(capacity: number): void
  /** A new entry took `slot`. */
  added(slot: number, key: string): void
  /** The entry in `slot` was read or overwritten. */
  used(slot: number): void
  /** The entry in `slot` is gone. */
  removed(slot: number): void
  /** The slot to evict now, or -1 when there is none; the store removes it (and calls `removed`). */
  victim(): number
  clear(): void
}

export const NONE = -1

/**
 * A copy of `array` with room for `length` items, the new ones set to `fill` (else 0): a store's per-slot columns,
 * and an order's, grow with it.
 */
export function grown<T extends Uint8Array | Uint16Array | Int32Array | Float32Array | Float64Array>(array: T, length: number, fill?: number): T {
  const copy = new (array.constructor as new (length: number) => T)(length)
  if (fill !== undefined) copy.fill(fill, array.length)
  copy.set(array as never)
  return copy
}

/**
 * Doubly linked lists threaded through slot numbers in typed arrays: no object per entry. A slot is in at most one
 * list at a time; the caller knows which.
 */
export class SlotLists {
  prev: Int32Array
  next: Int32Array
  readonly heads: Int32Array
  readonly tails: Int32Array
  readonly sizes: Int32Array

  constructor(lists: number, capacity: number) {
    this.prev = new Int32Array(capacity)
    this.next = new Int32Array(capacity)
    this.heads = new Int32Array(lists).fill(NONE)
    this.tails = new Int32Array(lists).fill(NONE)
    this.sizes = new Int32Array(lists)
  }

  grow(capacity: number): void {
    this.prev = grown(this.prev, capacity)
    this.next = grown(this.next, capacity)
  }

  pushHead(list: number, slot: number): void {
    const head = this.heads[list] as number
    this.prev[slot] = NONE
    this.next[slot] = head
    if (head === NONE) this.tails[list] = slot
    else this.prev[head] = slot
    this.heads[list] = slot
    this.sizes[list] = (this.sizes[list] as number) + 1
  }

  unlink(list: number, slot: number): void {
    const prev = this.prev[slot] as number
    const next = this.next[slot] as number
    if (prev === NONE) this.heads[list] = next
    else this.next[prev] = next
    if (next === NONE) this.tails[list] = prev
    else this.prev[next] = prev
    this.sizes[list] = (this.sizes[list] as number) - 1
  }

  /**
   * Moves a slot already in `list` to its head. Every LRU hit runs this: it touches only the links that change (the
   * list's size stays), each array read once.
   */
  toHead(list: number, slot: number): void {
    const heads = this.heads
    const head = heads[list] as number
    if (head === slot) return
    const prev = this.prev
    const next = this.next
    // Not the head, so it has a predecessor.
    const before = prev[slot] as number
    const after = next[slot] as number
    next[before] = after
    if (after === NONE) this.tails[list] = before
    else prev[after] = before
    prev[slot] = NONE
    next[slot] = head
    prev[head] = slot
    heads[list] = slot
  }

  clear(): void {
    this.heads.fill(NONE)
    this.tails.fill(NONE)
    this.sizes.fill(0)
  }
}

/**
 * Least recently used: reads and writes move an entry to the front. One list threaded through slot numbers, each
 * slot's links side by side in one array (prev at 2 x slot, next at 2 x slot + 1), its ends in plain fields: a hit
 * that moves an entry touches one array and two fields.
 */
export class LruOrder implements EvictionOrder {
  /** prev and next of every slot, interleaved. */
  #links: Int32Array
  #head = NONE
  #tail = NONE

  constructor(capacity: number) {
    this.#links = new Int32Array(capacity * 2)
  }

  grow(capacity: number): void {
    this.#links = grown(this.#links, capacity * 2)
  }

  added(slot: number): void {
    const links = this.#links
    const head = this.#head
    links[slot * 2] = NONE
    links[slot * 2 + 1] = head
    if (head === NONE) this.#tail = slot
    else links[head * 2] = slot
    this.#head = slot
  }

  /** Every LRU hit runs this: only the links that change are written, each read once. */
  used(slot: number): void {
    const head = this.#head
    if (head === slot) return
    const links = this.#links
    // Not the head, so it has a predecessor.
    const before = links[slot * 2] as number
    const after = links[slot * 2 + 1] as number
    links[before * 2 + 1] = after
    if (after === NONE) this.#tail = before
    else links[after * 2] = before
    links[slot * 2] = NONE
    links[slot * 2 + 1] = head
    links[head * 2] = slot
    this.#head = slot
  }

  removed(slot: number): void {
    const links = this.#links
    const before = links[slot * 2] as number
    const after = links[slot * 2 + 1] as number
    if (before === NONE) this.#head = after
    else links[before * 2 + 1] = after
    if (after === NONE) this.#tail = before
    else links[after * 2] = before
  }

  victim(): number {
    return this.#tail
  }

  clear(): void {
    this.#head = NONE
    this.#tail = NONE
  }
}

/** First in, first out: only insertion order counts; reads and overwrites change nothing (a hot entry goes when its turn comes). */
export class FifoOrder extends LruOrder {
  override used(): void {}
}
