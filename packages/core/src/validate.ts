import { typeOf } from './duration.js'
import { loneSurrogateAt } from './keys.js'

/** Longest key accepted, namespace included: keys travel as Redis keys and Cache API URLs. */
export const MAX_KEY_LENGTH = 1024

/** Throws unless `key` is well-formed UTF-16 text (no lone surrogate) of 1..maxLength characters. */
export function assertKey(key: unknown, name: string, maxLength: number): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`${name} must be a string, got ${typeOf(key)}`)
  if (key.length === 0 || key.length > maxLength) {
    throw new RangeError(`${name} must be 1 to ${maxLength} characters, got ${key.length}`)
  }
  assertWellFormed(key, name)
}

/** Throws a RangeError naming `name` when `text` holds a lone surrogate (it has no UTF-8 form). */
export function assertWellFormed(text: string, name: string): void {
  const at = loneSurrogateAt(text)
  if (at !== -1) {
    const unit = text.charCodeAt(at).toString(16).padStart(4, '0')
    throw new RangeError(
      `${name} must be well-formed UTF-16 text: it has a lone surrogate \\u${unit} at index ${at}, which UTF-8 (Redis, URLs) cannot hold`,
    )
  }
}

// The walk below runs on every write, so it allocates nothing unless it fails: the objects and keys on the way
// down live in two reused stacks, and the path in the message is built only for the error.
const ancestors: object[] = []
const path: (string | number)[] = []

/**
 * Throws a TypeError naming the path of the first part of `value` that would not survive a round trip through
 * JSON (every tier that leaves the process serializes): functions, symbols, bigints, non-finite numbers,
 * Dates, Maps, class instances, cycles. A value that is binary as a whole (Uint8Array, ArrayBuffer) is fine: the
 * envelope holds it as bytes (base64 only in stores that keep text).
 */
export function assertSerializable(value: unknown, name: string): void {
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return
  // A successful walk pops all it pushed, and a failed one clears both below: the stacks start empty.
  let why: string | undefined
  try {
    why = check(value)
  } catch (error) {
    // A getter that throws leaves the walk half-way down.
    ancestors.length = 0
    path.length = 0
    throw error
  }
  if (why !== undefined) {
    const where = name + path.map((step) => (typeof step === 'number' ? `[${step}]` : `.${step}`)).join('')
    ancestors.length = 0
    path.length = 0
    throw new TypeError(`${where} cannot be cached: ${why}`)
  }
}

/** undefined when the value round-trips; otherwise why not, with `path` left pointing at the culprit. */
function check(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : `${value} becomes null in JSON`
    case 'object': {
      if (value === null) return undefined
      if (ancestors.includes(value)) return 'it refers back to itself (a cycle)'
      ancestors.push(value)
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i]
          path.push(i)
          if (item === undefined) return 'undefined array items become null in JSON'
          const why = check(item)
          if (why !== undefined) return why
          path.pop()
        }
      } else {
        const proto: unknown = Object.getPrototypeOf(value)
        if (proto !== Object.prototype && proto !== null) {
          const kind = (value as { constructor?: { name?: string } }).constructor?.name ?? 'an object with a prototype'
          return `${kind} does not survive serialization; store plain objects, arrays, strings, numbers, booleans or null`
        }
        for (const key in value) {
          const item: unknown = (value as Record<string, unknown>)[key]
          // JSON drops undefined properties, which reads back the same.
          if (item === undefined) continue
          path.push(key)
          const why = check(item)
          if (why !== undefined) return why
          path.pop()
        }
      }
      ancestors.pop()
      return undefined
    }
    default:
      return `${typeOf(value)} values cannot be serialized`
  }
}
