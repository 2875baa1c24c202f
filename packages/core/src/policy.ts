import type { StandardSchemaV1 } from '@standard-schema/spec'
import { parseDuration, typeOf, type Duration } from './duration.js'
import { assertWellFormed } from './validate.js'

/**
 * How long a value may be served, from every tier and in every Cache-Control header.
 *
 * @example
 * const policy: Policy = { ttl: '5m', swr: '1m', staleIfError: '1h', negativeTtl: '30s', tags: ['products'] }
 */
export interface Policy {
  /** Fresh for this long after the load started. */
  ttl: Duration
  /** After `ttl`, answer with the stale value at once and refresh in the background, for this long. @default 0 */
  swr?: Duration
  /** After `ttl`, answer with the stale value when the loader fails, for this long. @default 0 */
  staleIfError?: Duration
  /** How long a "not found" (loader returned null or undefined) is cached. @default ttl */
  negativeTtl?: Duration
  /** 0..1: each entry's fresh lifetime is shortened by up to this fraction, at random, so keys written together do not expire together. @default 0 */
  jitter?: number
  /** XFetch beta (1 is typical): refresh in the background before expiry, more likely the closer expiry and the slower the loader. @default false */
  earlyRefresh?: number | false
  /** Labels for `invalidateTags`. Merged with the cache's default tags. */
  tags?: readonly string[]
  /** Soft timeout: when a stale value exists (within `staleIfError`), answer with it after this long and let the load finish in the background. */
  timeout?: Duration
  /** Hard timeout: abort the loader's `signal` and fail the load after this long. */
  hardTimeout?: Duration
  /**
   * Refresh-ahead, 0..1 (exclusive): a fresh entry read after this fraction of its fresh life is refreshed in the
   * background, if it is hot: read at least `minReads` times since it was written (2 unless given as
   * `{ at, minReads }`, at most 15). Deterministic; with a coordinator and shared tiers, one process refreshes a
   * key at a time. Needs `createCache({ strategies: [refreshAhead()] })`. @default false
   */
  refreshAhead?: number | false | { at: number; minReads?: number }
  /**
   * Sliding expiry (sessions): each read extends the entry to another `ttl` from now, in every tier that holds it,
   * at most once per key per tenth of the ttl (touches are batched, one write per tier). Needs
   * `createCache({ strategies: [slidingExpiry()] })`. @default false
   */
  sliding?: boolean
  /** With `sliding`: no entry is served past this long after it was written, however often it is read. @default none */
  maxAge?: Duration
  /**
   * What the value must be, as a Standard Schema (zod, valibot, arktype, ...; checked, not transformed). A value
   * read from a tier outside this process that fails it is dropped and reloaded (event `invalid`), after going
   * through `migrate` when given; a loaded value that fails it fails the load (`INVALID_VALUE`) unless
   * `checkLoaded` is false. @default none
   */
  schema?: StandardSchemaV1
  /**
   * Turns a stored value that fails `schema` (written by an older version) into one that passes: it is served and
   * copied into the tiers above, not written back where it was read. What fails again (or throws, or returns null) is
   * a miss. @default none
   */
  migrate?: (stored: unknown) => unknown
  /** Check loaded values against `schema` too. @default true */
  checkLoaded?: boolean
}

/** A Policy with every duration in milliseconds, validated, defaults applied and tags namespaced. */
export interface ResolvedPolicy {
  readonly ttl: number
  readonly swr: number
  readonly staleIfError: number
  readonly negativeTtl: number
  /** Whether negativeTtl was set, rather than following ttl. */
  readonly negativeExplicit: boolean
  readonly jitter: number
  /** XFetch beta; 0 = off. */
  readonly earlyRefresh: number
  /** Namespaced tags, or undefined for none. */
  readonly tags: readonly string[] | undefined
  /** 0 = off. */
  readonly timeout: number
  /** 0 = off. */
  readonly hardTimeout: number
  // Resolved by the strategies that serve them (engine/refresh-ahead.ts, engine/sliding.ts); absent = off.
  /** Fraction of the fresh life after which a hot entry is refreshed ahead; 0 = off. */
  readonly refreshAhead?: number
  /** Reads of an entry that make it hot for refresh-ahead. */
  readonly refreshAheadMinReads?: number
  readonly sliding?: boolean
  /** Cap on a sliding entry's life from its creation; 0 = none. */
  readonly maxAge?: number
  readonly schema: StandardSchemaV1 | undefined
  readonly migrate: ((stored: unknown) => unknown) | undefined
  readonly checkLoaded: boolean
}

export const MAX_TAG_LENGTH = 256
export const MAX_TAGS = 64

const POLICY_KEYS = new Set([
  'ttl',
  'swr',
  'staleIfError',
  'negativeTtl',
  'jitter',
  'earlyRefresh',
  'tags',
  'timeout',
  'hardTimeout',
  'refreshAhead',
  'sliding',
  'maxAge',
  'schema',
  'migrate',
  'checkLoaded',
])

const RESOLVED = new WeakSet<object>()

/** Whether `policy` came out of resolvePolicy (durations in ms, validated). */
export function isResolvedPolicy(policy: unknown): policy is ResolvedPolicy {
  return typeof policy === 'object' && policy !== null && RESOLVED.has(policy)
}

/** `resolved` with `fields` the strategies resolved (see engine/strategy.ts), itself a resolved policy. */
export function withFields(resolved: ResolvedPolicy, fields: Partial<ResolvedPolicy>): ResolvedPolicy {
  const policy = Object.freeze({ ...resolved, ...fields })
  RESOLVED.add(policy)
  return policy
}

/**
 * Validates `input` and merges it over `base` (the cache's defaults). `where` names the argument in errors,
 * `tagPrefix` is the cache namespace prefix added to every tag.
 */
export function resolvePolicy(
  input: Partial<Policy> | undefined,
  base: ResolvedPolicy | undefined,
  where: string,
  tagPrefix: string,
): ResolvedPolicy {
  if (input === undefined) {
    if (base === undefined) throw new TypeError(`${where}.ttl is required: pass a policy or set options.policy`)
    return base
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new TypeError(`${where} must be an object like { ttl: '5m' }, got ${typeOf(input)}`)
  }
  for (const key of Object.keys(input)) {
    if (!POLICY_KEYS.has(key)) {
      throw new TypeError(`${where}.${key} is not a policy option (known: ${[...POLICY_KEYS].join(', ')})`)
    }
  }
  const ttlInput = input.ttl
  if (ttlInput === undefined && base === undefined) {
    throw new TypeError(`${where}.ttl is required: pass a policy with ttl or set options.policy`)
  }
  const ttl = ttlInput === undefined ? (base as ResolvedPolicy).ttl : parseDuration(ttlInput, `${where}.ttl`)
  const swr = pick(input.swr, base?.swr, 0, `${where}.swr`)
  const staleIfError = pick(input.staleIfError, base?.staleIfError, 0, `${where}.staleIfError`)
  // Without a negativeTtl of its own or inherited, a "not found" lives as long as a found value.
  const negativeExplicit = input.negativeTtl !== undefined || base?.negativeExplicit === true
  const negativeTtl =
    input.negativeTtl !== undefined
      ? parseDuration(input.negativeTtl, `${where}.negativeTtl`)
      : base?.negativeExplicit === true
        ? base.negativeTtl
        : ttl
  const timeout = pick(input.timeout, base?.timeout, 0, `${where}.timeout`)
  const hardTimeout = pick(input.hardTimeout, base?.hardTimeout, 0, `${where}.hardTimeout`)

  let jitter = base?.jitter ?? 0
  if (input.jitter !== undefined) {
    jitter = input.jitter
    if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
      throw new RangeError(`${where}.jitter must be a number from 0 to 1, got ${String(input.jitter)}`)
    }
  }

  let earlyRefresh = base?.earlyRefresh ?? 0
  if (input.earlyRefresh !== undefined) {
    const beta = input.earlyRefresh
    if (beta === false) earlyRefresh = 0
    else if (typeof beta !== 'number' || !Number.isFinite(beta) || beta < 0) {
      throw new RangeError(`${where}.earlyRefresh must be false or a finite number >= 0 (XFetch beta), got ${String(beta)}`)
    } else earlyRefresh = beta
  }

  let tags = base?.tags
  if (input.tags !== undefined) tags = mergeTags(base?.tags, input.tags, `${where}.tags`, tagPrefix)

  const schema = input.schema ?? base?.schema
  if (schema !== undefined && typeof schema['~standard']?.validate !== 'function') throw new TypeError(`${where}.schema must be a Standard Schema`)
  const migrate = input.migrate ?? base?.migrate
  if (migrate !== undefined && typeof migrate !== 'function') throw new TypeError(`${where}.migrate must be a function`)
  const checkLoaded = input.checkLoaded ?? base?.checkLoaded ?? true
  if (typeof checkLoaded !== 'boolean') throw new TypeError(`${where}.checkLoaded must be a boolean`)

  if (timeout > 0 && staleIfError === 0) {
    throw new RangeError(
      `${where}.timeout answers with a stale value, so it needs ${where}.staleIfError > 0 (nothing stale could answer otherwise)`,
    )
  }
  if (timeout > 0 && hardTimeout > 0 && timeout >= hardTimeout) {
    throw new RangeError(`${where}.timeout (${timeout} ms) must be shorter than ${where}.hardTimeout (${hardTimeout} ms)`)
  }
  if (earlyRefresh > 0 && ttl === 0) {
    throw new RangeError(`${where}.earlyRefresh needs ${where}.ttl > 0: an entry that is never fresh cannot refresh early`)
  }
  const resolved: ResolvedPolicy = Object.freeze({
    ttl,
    swr,
    staleIfError,
    negativeTtl,
    negativeExplicit,
    jitter,
    earlyRefresh,
    tags,
    timeout,
    hardTimeout,
    schema,
    migrate,
    checkLoaded,
  })
  RESOLVED.add(resolved)
  return resolved
}

function pick(input: Duration | undefined, inherited: number | undefined, fallback: number, name: string): number {
  if (input !== undefined) return parseDuration(input, name)
  return inherited ?? fallback
}

/** Validates tags and returns them namespaced and de-duplicated, merged after `inherited` (already namespaced). */
export function mergeTags(
  inherited: readonly string[] | undefined,
  tags: readonly string[],
  name: string,
  prefix: string,
): readonly string[] | undefined {
  const list = validateTags(tags, name)
  const out = inherited === undefined ? [] : [...inherited]
  for (const tag of list) {
    const full = prefix + tag
    if (!out.includes(full)) out.push(full)
  }
  if (out.length > MAX_TAGS) throw new RangeError(`${name}: at most ${MAX_TAGS} tags per entry, got ${out.length}`)
  return out.length === 0 ? undefined : Object.freeze(out)
}

/** Throws unless `tags` is an array of 1..256-character well-formed (no lone surrogate) strings. */
export function validateTags(tags: unknown, name: string): readonly string[] {
  if (!Array.isArray(tags)) throw new TypeError(`${name} must be an array of strings, got ${typeOf(tags)}`)
  for (let i = 0; i < tags.length; i++) {
    const tag: unknown = tags[i]
    if (typeof tag !== 'string') throw new TypeError(`${name}[${i}] must be a string, got ${typeOf(tag)}`)
    if (tag.length === 0 || tag.length > MAX_TAG_LENGTH) {
      throw new RangeError(`${name}[${i}] must be 1 to ${MAX_TAG_LENGTH} characters, got ${tag.length}`)
    }
    assertWellFormed(tag, `${name}[${i}]`)
  }
  return tags as readonly string[]
}
