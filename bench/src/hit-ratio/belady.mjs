// Belady's optimal replacement (MIN), computed offline over a whole trace: on a miss with a full cache, drop the
// key whose next use lies farthest in the future, or keep the cache as it is when the new key itself is the one
// needed last (bypass). No policy that sees only the past can beat its hit count: it is the physical limit.

/**
 * Hits of the optimal policy on `trace` with room for `capacity` keys.
 * @param {Int32Array} trace   key ids in 0..keySpace-1
 * @param {number} keySpace
 * @param {number} capacity
 * @returns {number}
 */
export function beladyHits(trace, keySpace, capacity) {
  const length = trace.length
  const never = length // "no next use"; every real next use is smaller
  // nextUse[i]: where the key read at i is read again.
  const nextUse = new Int32Array(length)
  const seen = new Int32Array(keySpace).fill(never)
  for (let i = length - 1; i >= 0; i--) {
    const key = /** @type {number} */ (trace[i])
    nextUse[i] = /** @type {number} */ (seen[key])
    seen[key] = i
  }
  // A max-heap of (next use, key) packed in one double; an item is current only while it matches keyNext.
  const heap = new MaxHeap(length + 1, keySpace)
  const cached = new Uint8Array(keySpace)
  const keyNext = new Int32Array(keySpace)
  let size = 0
  let hits = 0
  for (let i = 0; i < length; i++) {
    const key = /** @type {number} */ (trace[i])
    const next = /** @type {number} */ (nextUse[i])
    if (cached[key] === 1) {
      hits++
      keyNext[key] = next
      heap.push(next, key)
      continue
    }
    if (size < capacity) {
      cached[key] = 1
      keyNext[key] = next
      heap.push(next, key)
      size++
      continue
    }
    // Drop outdated heap items until the top is a cached key at its current next use.
    while (heap.size > 0) {
      const topKey = heap.topKey()
      if (cached[topKey] === 1 && keyNext[topKey] === heap.topNext()) break
      heap.pop()
    }
    if (next >= heap.topNext()) continue // the newcomer is needed last: not caching it is optimal
    cached[heap.topKey()] = 0
    heap.pop()
    cached[key] = 1
    keyNext[key] = next
    heap.push(next, key)
  }
  return hits
}

/** A max-heap of (number, key) pairs packed in one double each; the popularity oracle in policies.mjs uses it too. */
export class MaxHeap {
  /**
   * @param {number} capacity   most items at once
   * @param {number} keySpace
   */
  constructor(capacity, keySpace) {
    this.items = new Float64Array(capacity)
    this.size = 0
    this.radix = keySpace
  }

  /** @param {number} next @param {number} key */
  push(next, key) {
    if (this.size === this.items.length) this.#compact()
    const items = this.items
    let i = this.size++
    const value = next * this.radix + key
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (/** @type {number} */ (items[parent]) >= value) break
      items[i] = /** @type {number} */ (items[parent])
      i = parent
    }
    items[i] = value
  }

  pop() {
    const items = this.items
    const last = /** @type {number} */ (items[--this.size])
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      if (left >= this.size) break
      const right = left + 1
      const child = right < this.size && /** @type {number} */ (items[right]) > /** @type {number} */ (items[left]) ? right : left
      if (/** @type {number} */ (items[child]) <= last) break
      items[i] = /** @type {number} */ (items[child])
      i = child
    }
    items[i] = last
  }

  topNext() {
    return Math.floor(/** @type {number} */ (this.items[0]) / this.radix)
  }

  topKey() {
    return /** @type {number} */ (this.items[0]) % this.radix
  }

  /** Never needed with one push per access and capacity = trace length + 1; kept so a misuse fails loudly. */
  #compact() {
    throw new Error('MaxHeap full')
  }
}
