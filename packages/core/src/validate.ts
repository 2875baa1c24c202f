import { typeOf } from './duration.js'

/** Longest key accepted, namespace included: keys travel as Redis keys and Cache API URLs. */
export const MAX_KEY_LENGTH = 1024

/** Throws unless `key` is a string of 1..maxLength characters. */
export function assertKey(key: unknown, name: string, maxLength: number): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`${name} must be a string, got ${typeOf(key)}`)
  if (key.length === 0 || key.length > maxLength) {
    throw new RangeError(`${name} must be 1 to ${maxLength} characters, got ${key.length}`)
  }
}

/**
 * Throws a TypeError naming the path of the first part of `value` that would not survive a round trip through
 * JSON (every tier that leaves the process serializes): functions, symbols, bigints, non-finite numbers,
 * Dates, Maps, class instances, cycles.
 */
export function assertSerializable(value: unknown, name: string): void {
  check(value, name, [])
}

function check(value: unknown, path: string, ancestors: object[]): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(value)) throw unserializable(path, `${value} becomes null in JSON`)
      return
    case 'object': {
      if (value === null) return
      if (ancestors.includes(value)) throw unserializable(path, 'it refers back to itself (a cycle)')
      ancestors.push(value)
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i]
          if (item === undefined) throw unserializable(`${path}[${i}]`, 'undefined array items become null in JSON')
          check(item, `${path}[${i}]`, ancestors)
        }
      } else {
        const proto: unknown = Object.getPrototypeOf(value)
        if (proto !== Object.prototype && proto !== null) {
          const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'an object with a prototype'
          throw unserializable(path, `${kind} does not survive serialization; store plain objects, arrays, strings, numbers, booleans or null`)
        }
        for (const key in value) {
          const item: unknown = (value as Record<string, unknown>)[key]
          // JSON drops undefined properties, which reads back the same.
          if (item !== undefined) check(item, `${path}.${key}`, ancestors)
        }
      }
      ancestors.pop()
      return
    }
    default:
      throw unserializable(path, `${typeOf(value)} values cannot be serialized`)
  }
}

function unserializable(path: string, why: string): TypeError {
  return new TypeError(`${path} cannot be cached: ${why}`)
}
