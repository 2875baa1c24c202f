// memoryStore's slots: the columns an entry's fields live in, one slot per entry, and the view that reads one slot as an
// Entry (memory.ts keeps the index and the bookkeeping; eviction.ts and tiny-lfu.ts the orders).
import type { Entry } from '../entry.js'
import type { SyncHint } from '../store.js'

/** Columns of the times table, per slot (errorUntil has its own column, made on the first entry that has one). */
export const CREATED = 0
export const FRESH = 1
export const STALE = 2
export const TIMES = 3

/** A getSync hint kept in the key column in place of its key (core's hints carry the key as `full`). */
export interface KeyedHint extends SyncHint {
  readonly full: string
}

/** The Entry getSync hands out: getters over one slot's columns, so that a hit copies nothing. */
export class SlotView implements Entry {
  s = 0
  t: Float64Array = new Float64Array(0)
  v: unknown[] = []
  g: (readonly string[] | undefined)[] | undefined = undefined
  er: Float64Array | undefined = undefined
  n: Uint8Array = new Uint8Array(0)
  d: Float32Array = new Float32Array(0)
  st: Float64Array | undefined = undefined

  get value(): unknown {
    return this.v[this.s]
  }

  get createdAt(): number {
    return this.t[this.s * TIMES + CREATED] as number
  }

  get freshUntil(): number {
    return this.t[this.s * TIMES + FRESH] as number
  }

  get staleUntil(): number {
    return this.t[this.s * TIMES + STALE] as number
  }

  get errorUntil(): number | undefined {
    const error = this.er?.[this.s]
    return error === error ? error : undefined
  }

  get tags(): readonly string[] | undefined {
    return this.g?.[this.s]
  }

  get negative(): true | undefined {
    return this.n[this.s] === 1 ? true : undefined
  }

  get loadMs(): number | undefined {
    const loadMs = this.d[this.s] as number
    return loadMs === loadMs ? loadMs : undefined
  }

  get stamp(): number | undefined {
    const stamp = this.st?.[this.s]
    return stamp === stamp ? stamp : undefined
  }
}

/**
 * `capacity` slots of undefined, allocated at that size, holding `from`'s items first. Every slot below the capacity is
 * in range, so writes in any order keep V8's fast elements.
 */
export function slots<T>(capacity: number, from?: readonly (T | undefined)[]): (T | undefined)[] {
  const array = new Array<T | undefined>(capacity).fill(undefined)
  if (from !== undefined) for (let i = 0; i < from.length; i++) array[i] = from[i]
  return array
}

/** The key a key slot names (it holds the key, or a hint naming it). */
export function keyOf(held: string | KeyedHint): string {
  return typeof held === 'string' ? held : held.full
}
