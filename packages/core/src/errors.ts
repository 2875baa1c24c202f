/** What went wrong, as a stable string tests and logs can match on. */
export type CacheErrorCode =
  /** A tier's get/set/delete threw or rejected. */
  | 'TIER_ERROR'
  /** A tier did not answer within `tierTimeout`. */
  | 'TIER_TIMEOUT'
  /** A tier returned something that is not a valid entry envelope. */
  | 'DECODE_ERROR'
  /** The loader threw or rejected. */
  | 'LOADER_ERROR'
  /** The loader ran past the policy's `hardTimeout` and was aborted. */
  | 'LOADER_TIMEOUT'
  /** The coordinator (tag times or locks) failed. */
  | 'COORDINATOR_ERROR'
  /** An entry was written by another codec (serializer, or in the clear where encryption is required): a miss. */
  | 'CODEC_MISMATCH'
  /** An encrypted entry did not decrypt (key id not listed, wrong key, altered bytes, moved entry): a miss. */
  | 'DECRYPT_ERROR'
  /** An entry is larger than the tier's `maxValueBytes`: not written to that tier (the caller still gets it). */
  | 'VALUE_TOO_LARGE'
  /** A value failed the policy's `schema` (a loaded one; a stored one is dropped with an `invalid` event). */
  | 'INVALID_VALUE'

/**
 * The one error class of tiercache: a failing tier, loader or coordinator, with where it happened.
 * Tier and coordinator errors never reach callers; they arrive through `onEvent`.
 * Loader errors reach the caller as the loader's own error unless a stale value can answer.
 *
 * @example
 * cache = createCache({ tiers, onEvent: (e) => { if (e.error) log(e.error.code, e.error.tier, e.error.key) } })
 */
export class CacheError extends Error {
  readonly code: CacheErrorCode
  readonly tier: string | undefined
  readonly key: string | undefined

  constructor(
    code: CacheErrorCode,
    message: string,
    details: { tier?: string | undefined; key?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'CacheError'
    this.code = code
    this.tier = details.tier
    this.key = details.key
  }
}

/** The message of anything thrown, for error texts. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message
  return String(error)
}
