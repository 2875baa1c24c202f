import { parseDuration, type Duration } from '@tiercache/core'

// Option checks of this package. TODO(kit): use @tiercache/core/kit's once it is on main.

export function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

/** Throws a TypeError unless `options` is a plain object. */
export function assertOptions(options: unknown, call: string): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${call} must be given an options object, got ${typeOf(options)}`)
  }
}

export function optionalFunction(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'function') throw new TypeError(`${name} must be a function, got ${typeOf(value)}`)
}

export function optionalString(value: unknown, name: string, max = 256): void {
  if (value === undefined) return
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${typeOf(value)}`)
  if (value.length > max) throw new RangeError(`${name} must be at most ${max} characters, got ${value.length}`)
}

/** Milliseconds for an optional Duration, undefined when not given; `positive` also rejects 0. */
export function optionalDuration(value: Duration | undefined, name: string, positive = false): number | undefined {
  if (value === undefined) return undefined
  const ms = parseDuration(value, name)
  if (positive && ms === 0) throw new RangeError(`${name} must be longer than 0 ms`)
  return ms
}
