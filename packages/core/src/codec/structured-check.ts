import { typeOf } from '../duration.js'

/** What a structured serializer gives back besides plain data; each serializer says which of these it keeps. */
export interface StructuredTypes {
  /** Objects met twice (shared references and cycles) come back as one object. */
  cycles: boolean
  /** BigInts kept: 64 = from -(2^63) to 2^64 - 1; Infinity = any. */
  bigintBits: number
  /** Maps come back as Maps (false: they would come back as plain objects, so they are refused). */
  maps: boolean
}

const KNOWN = [Date, RegExp, Map, Set, ArrayBuffer]

/**
 * Throws a TypeError naming the path of the first part of `value` a structured serializer would not give back:
 * functions, symbols, class instances (other than Date, RegExp, Map, Set, typed arrays, ArrayBuffer), too large
 * BigInts, and cycles when `types.cycles` is false. undefined, NaN, Infinity and -0 are kept.
 */
export function assertStructured(value: unknown, name: string, types: StructuredTypes): void {
  const path: string[] = []
  const seen = new Set<object>()
  const ancestors: object[] = []
  const why = walk(value)
  if (why !== undefined) throw new TypeError(`${name}${path.join('')} cannot be cached: ${why}`)

  function walk(item: unknown): string | undefined {
    switch (typeof item) {
      case 'function':
        return 'functions cannot be serialized'
      case 'symbol':
        return 'symbols cannot be serialized'
      case 'bigint': {
        const bits = types.bigintBits
        if (bits === Number.POSITIVE_INFINITY) return undefined
        // `bits` bits: unsigned up to 2^bits - 1, signed down to -(2^(bits - 1)).
        const fits = item < 0n ? -item <= 2n ** BigInt(bits - 1) : item < 2n ** BigInt(bits)
        return fits ? undefined : `this BigInt does not fit the ${bits}-bit integers this serializer keeps`
      }
      case 'object': {
        if (item === null) return undefined
        if (!types.cycles) {
          if (ancestors.includes(item)) return 'it refers back to itself (a cycle), which this serializer cannot keep'
        } else if (seen.has(item)) return undefined
        seen.add(item)
        if (ArrayBuffer.isView(item)) return item instanceof DataView ? 'DataView cannot be serialized; store its buffer' : undefined
        if (KNOWN.some((type) => item instanceof type) && !(item instanceof Map || item instanceof Set)) return undefined
        ancestors.push(item)
        const why = children(item)
        ancestors.pop()
        return why
      }
      default:
        return undefined
    }
  }

  function children(item: object): string | undefined {
    if (item instanceof Map) {
      if (!types.maps) return 'Maps come back from this serializer as plain objects; use an object or an array of pairs'
      let n = 0
      for (const [key, entry] of item) {
        path.push(`.get(#${n++})`)
        const why = walk(key) ?? walk(entry)
        if (why !== undefined) return why
        path.pop()
      }
      return undefined
    }
    if (item instanceof Set) {
      let n = 0
      for (const entry of item) {
        path.push(`[set #${n++}]`)
        const why = walk(entry)
        if (why !== undefined) return why
        path.pop()
      }
      return undefined
    }
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        path.push(`[${i}]`)
        const why = walk(item[i])
        if (why !== undefined) return why
        path.pop()
      }
      return undefined
    }
    const proto: unknown = Object.getPrototypeOf(item)
    if (proto !== Object.prototype && proto !== null) {
      return `${(item as { constructor?: { name?: string } }).constructor?.name ?? typeOf(item)} instances do not survive serialization (class instances come back as plain objects, or not at all)`
    }
    for (const key of Object.keys(item)) {
      path.push(`.${key}`)
      const why = walk((item as Record<string, unknown>)[key])
      if (why !== undefined) return why
      path.pop()
    }
    return undefined
  }
}
