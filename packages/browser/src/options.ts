import { parseDuration, type Duration } from '@tiercache/core'

/** A short description of a value for error messages: 'a string', 'null', 'an array', 'a number (NaN)'. */
export function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'number') return `a number (${String(value)})`
  const type = typeof value
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

/** Throws a TypeError unless `value` is an object (or undefined, when optional). */
export function checkOptions(value: unknown, call: string): void {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new TypeError(`${call}(options) must be an object, got ${typeOf(value)}`)
  }
}

export function optionalString(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${name} must be a non-empty string, got ${typeOf(value)}`)
  }
  return value
}

export function optionalPositiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${typeOf(value)}`)
  }
  return value
}

export function optionalFunction<F>(value: unknown, name: string, fallback: F): F {
  if (value === undefined) return fallback
  if (typeof value !== 'function') throw new TypeError(`${name} must be a function, got ${typeOf(value)}`)
  return value as F
}

/** A duration option in ms (core's rules: ms number or '30s'-style string), or the fallback. */
export function optionalDuration(value: Duration | undefined, name: string, fallback: number): number {
  return value === undefined ? fallback : parseDuration(value, name)
}
