import { parseDuration, type Duration } from '@tiercache/core'

/** A short description of a value's type for error messages. */
export function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

/** Throws a TypeError unless `options` is a plain object; `call` names the factory and shows an example. */
export function assertOptions(options: unknown, call: string): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`${call} must be given an options object, got ${typeOf(options)}`)
  }
}

/** Throws a TypeError unless `value` is undefined or a function. */
export function optionalFunction(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'function') throw new TypeError(`${name} must be a function, got ${typeOf(value)}`)
}

/** Throws a TypeError unless `value` is undefined or a string; a RangeError when it is longer than `max`. */
export function optionalString(value: unknown, name: string, max = 256): void {
  if (value === undefined) return
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${typeOf(value)}`)
  if (value.length > max) throw new RangeError(`${name} must be at most ${max} characters, got ${value.length}`)
}

/** Throws a TypeError unless `value` is undefined or a boolean. */
export function optionalBoolean(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`${name} must be true or false, got ${typeOf(value)}`)
}

/** Milliseconds for an optional Duration, `fallback` when undefined; `positive` also rejects 0. */
export function durationOption(value: Duration | undefined, name: string, fallback: number, positive = false): number {
  if (value === undefined) return fallback
  const ms = parseDuration(value, name)
  if (positive && ms === 0) throw new RangeError(`${name} must be longer than 0 ms`)
  return ms
}

/** Milliseconds for an optional Duration, undefined when not given. */
export function optionalDuration(value: Duration | undefined, name: string): number | undefined {
  return value === undefined ? undefined : parseDuration(value, name)
}

/** Throws unless `value` is undefined or an integer within [min, max]. */
export function optionalInteger(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${name} must be an integer, got ${typeOf(value)} ${String(value)}`)
  if (value < min || value > max) throw new RangeError(`${name} must be from ${min} to ${max}, got ${value}`)
}

/** Lowercase hex SHA-256 of a string (Web Crypto, present in Workers and Node 20). */
export async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
}

/** Lowercase hex SHA-1 of a string: the digest Redis names scripts by (EVALSHA). */
export async function sha1Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text)))
}

function hex(buffer: ArrayBuffer): string {
  let out = ''
  for (const byte of new Uint8Array(buffer)) out += byte.toString(16).padStart(2, '0')
  return out
}

/** Rejects with `onTimeout()` when `promise` has not settled after `ms`; 0 waits forever. */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (ms === 0) return promise
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
