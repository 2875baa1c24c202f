import { checkFunction, parseDuration, typeOf, type Duration } from '../duration.js'

/**
 * Option checks for factories (`redisStore(options)`, `createCachedFetch(options)`...): each throws a TypeError or
 * RangeError naming the option and the rule, and returns the value (or the fallback when it is undefined).
 *
 * @example
 * assertOptions(options, 'kvStore(options)')
 * const prefix = optionalString(options.prefix, 'options.prefix', 'tc:')
 * const ttl = optionalDuration(options.ttl, 'options.ttl', 60_000, { positive: true })
 */
export function assertOptions(options: unknown, call: string, optional = false): void {
  if (optional && options === undefined) return
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${call} must be an options object, got ${typeOf(options)}`)
  }
}

/** A function, or `fallback` when undefined. */
export function optionalFunction<F>(value: unknown, name: string, fallback?: F): F | undefined {
  if (value === undefined) return fallback
  checkFunction(value, name)
  return value as F
}

/**
 * A string of 1 to `max` characters, or `fallback` when undefined. `empty`: '' is accepted too (a key prefix may be
 * empty; a name, a binding or a URL may not).
 */
export function optionalString(value: unknown, name: string, fallback?: string, max = 256, { empty = false } = {}): string | undefined {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || (value.length === 0 && !empty)) throw new TypeError(`${name} must be a ${empty ? '' : 'non-empty '}string, got ${typeOf(value)}`)
  if (value.length > max) throw new RangeError(`${name} must be at most ${max} characters, got ${value.length}`)
  return value
}

/** true or false, or `fallback` when undefined. */
export function optionalBoolean(value: unknown, name: string, fallback?: boolean): boolean | undefined {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be true or false, got ${typeOf(value)}`)
  return value
}

/** An integer from `min` to `max`, or `fallback` when undefined. */
export function optionalInteger(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER, fallback?: number): number | undefined {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${name} must be an integer, got ${typeOf(value)} ${String(value)}`)
  if (value < min || value > max) throw new RangeError(`${name} must be from ${min} to ${max}, got ${value}`)
  return value
}

/** Milliseconds of a Duration (`5000`, `'5s'`), or `fallback` when undefined; `positive` also rejects 0. */
export function optionalDuration(value: Duration | undefined, name: string, fallback?: number, { positive = false } = {}): number | undefined {
  if (value === undefined) return fallback
  const ms = parseDuration(value, name)
  if (positive && ms === 0) throw new RangeError(`${name} must be longer than 0 ms`)
  return ms
}
