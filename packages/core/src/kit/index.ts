/**
 * @tiercache/core/kit: the small helpers every tiercache package needs (edge, browser, redis and memcached import
 * them; none keeps a copy). No runtime globals beyond timers and Promise.
 */
export { MAX_DURATION_MS, parseDuration, parseOptionalDuration, typeOf } from '../duration.js'
export type { Duration, DurationUnit } from '../duration.js'
export { fromBase64, toBase64 } from '../bytes.js'
export { Background, noop, trackBackground } from '../engine/background.js'
export type { WaitUntil } from '../engine/background.js'
export { coarseClock, createAbortController, sleep, withDeadline } from '../runtime.js'
export type { AbortControllerLike, AbortSignalLike, TimerHandle } from '../runtime.js'
export { Flights } from './flights.js'
export { setBounded, TagStamps } from './tag-stamps.js'
export type { TagStampsOptions } from './tag-stamps.js'
export { assertOptions, optionalBoolean, optionalDuration, optionalFunction, optionalInteger, optionalString } from './options.js'
