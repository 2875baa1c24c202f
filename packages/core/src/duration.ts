/** The units a Duration string may end with. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd'

/**
 * A length of time: milliseconds as a number, or a number with a unit such as '500ms', '30s', '5m', '1.5h', '1d'
 * (a space before the unit is allowed). Anything else, like '5x', fails to compile; parseDuration checks the rest
 * (no negatives, NaN or infinities) at run time.
 */
export type Duration = number | `${number}${DurationUnit}` | `${number} ${DurationUnit}`

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION_PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/

/**
 * The longest duration, in ms (2^53 - 1, about 285,000 years): longer finite ones count as this long, so that
 * every sum of an entry's windows stays a finite, exact number of milliseconds.
 */
export const MAX_DURATION_MS = Number.MAX_SAFE_INTEGER

/**
 * Milliseconds for a Duration; throws a TypeError or RangeError naming `name` when it is not one. NaN, negative
 * and infinite values (also strings too long to be finite, like '9'.repeat(400) + 's') are rejected; finite ones
 * longer than MAX_DURATION_MS count as MAX_DURATION_MS.
 *
 * @example
 * parseDuration('5m', 'policy.ttl') // 300000
 */
export function parseDuration(input: Duration, name: string): number {
  if (typeof input === 'number') {
    if (Number.isNaN(input)) throw new RangeError(`${name} must be a number of milliseconds, got NaN`)
    if (input < 0) throw new RangeError(`${name} must not be negative, got ${input}`)
    if (!Number.isFinite(input)) throw new RangeError(`${name} must be finite, got ${input}`)
    return input > MAX_DURATION_MS ? MAX_DURATION_MS : input
  }
  if (typeof input !== 'string') {
    throw new TypeError(`${name} must be a number of milliseconds or a string like '30s', got ${typeOf(input)}`)
  }
  const match = DURATION_PATTERN.exec(input.trim())
  if (match === null) {
    throw new RangeError(
      `${name} must be a duration like '500ms', '30s', '5m', '1h' or '1d', got ${JSON.stringify(input)}`,
    )
  }
  const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number)
  if (!Number.isFinite(ms)) throw new RangeError(`${name} must be finite, got ${JSON.stringify(input.length > 40 ? `${input.slice(0, 20)}…${input.slice(-10)}` : input)} (${input.length} characters)`)
  return ms > MAX_DURATION_MS ? MAX_DURATION_MS : ms
}

/** Like parseDuration, but undefined stays undefined. */
export function parseOptionalDuration(input: Duration | undefined, name: string): number | undefined {
  return input === undefined ? undefined : parseDuration(input, name)
}

export function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

/** Throws a TypeError naming `name` unless `value` is a function (or, when `optional`, undefined). */
export function checkFunction(value: unknown, name: string, optional?: boolean): void {
  if (typeof value !== 'function' && !(optional && value === undefined)) throw new TypeError(`${name} must be a function, got ${typeOf(value)}`)
}
