import type { ResolvedPolicy } from './policy.js'

/**
 * One cached value with the moments that decide how it may be served (epoch milliseconds).
 * Stores keep entries; core alone decides what an entry's times mean.
 */
export interface Entry<V = unknown> {
  /** The cached value; null for a negative ("not found") entry. */
  value: V
  /** When the load that produced the value started (the clock of the process that loaded it). */
  createdAt: number
  /** Served as fresh before this moment. */
  freshUntil: number
  /** End of the stale-while-revalidate window (equal to freshUntil when there is none). */
  staleUntil: number
  /** End of the stale-if-error window, when there is one. */
  errorUntil?: number
  /** Namespaced tags. */
  tags?: readonly string[]
  /** A cached "not found". */
  negative?: boolean
  /** How long the loader took, for early refresh. */
  loadMs?: number
  /**
   * The coordinator's stamp when the load started (the greatest this process knew then): the entry is dead once
   * any of its tags carries a greater stamp. Entries without one (written by 0.1) compare their tags' stamps with
   * createdAt instead.
   */
  stamp?: number
}

/** Format version of serialized entries; an envelope with another version is a miss. */
export const ENTRY_VERSION = 1

/**
 * The serialized shape of an entry: short field names, a format version. Fields are added (never renamed) by core
 * only; a reader ignores fields it does not know.
 *
 * | key | Entry field |
 * |---|---|
 * | `v` | format version (ENTRY_VERSION) |
 * | `t` | tags (written first, so a Redis script finds them at the head of the text) |
 * | `value` | value |
 * | `c`, `f`, `s`, `e` | createdAt, freshUntil, staleUntil, errorUntil |
 * | `n` | 1 for a negative entry |
 * | `d` | loadMs |
 * | `g` | stamp (the coordinator's stamp when the load started) |
 */
export interface Envelope {
  t?: readonly string[]
  v: number
  value: unknown
  c: number
  f: number
  s: number
  e?: number
  n?: 1
  d?: number
  g?: number
}

export const enum EntryState {
  Fresh = 0,
  /** Past freshUntil, within the stale-while-revalidate window. */
  Stale = 1,
  /** Past the swr window, within the stale-if-error window: usable only when a load fails. */
  ErrorStale = 2,
  Dead = 3,
}

export function entryState(entry: Entry, now: number): EntryState {
  if (now < entry.freshUntil) return EntryState.Fresh
  if (now < entry.staleUntil) return EntryState.Stale
  if (entry.errorUntil !== undefined && now < entry.errorUntil) return EntryState.ErrorStale
  return EntryState.Dead
}

/** The last moment any window of this entry still allows serving it. */
export function lastServable(entry: Entry): number {
  const { errorUntil, staleUntil } = entry
  return errorUntil !== undefined && errorUntil > staleUntil ? errorUntil : staleUntil
}

/** Builds the entry for a loaded (or set) value under a resolved policy. */
export function createEntry<V>(
  value: V | null | undefined,
  policy: ResolvedPolicy,
  createdAt: number,
  loadMs: number | undefined,
  random: () => number,
): Entry<V | null> {
  if (value === null || value === undefined) {
    const until = createdAt + policy.negativeTtl
    const entry: Entry<null> = { value: null, createdAt, freshUntil: until, staleUntil: until, negative: true }
    if (policy.tags !== undefined) entry.tags = policy.tags
    return entry
  }
  // Jitter only shortens: the policy's ttl stays the upper bound that headers promise.
  const ttl = policy.jitter > 0 ? policy.ttl * (1 - policy.jitter * random()) : policy.ttl
  const freshUntil = createdAt + ttl
  const entry: Entry<V> = { value, createdAt, freshUntil, staleUntil: freshUntil + policy.swr }
  if (policy.staleIfError > 0) entry.errorUntil = freshUntil + policy.staleIfError
  if (policy.tags !== undefined) entry.tags = policy.tags
  if (loadMs !== undefined) entry.loadMs = loadMs
  return entry
}

/** The entry with every window ending no later than `until` (a store's maxTtl), or the entry itself. */
export function capEntry<V>(entry: Entry<V>, until: number): Entry<V> {
  if (lastServable(entry) <= until) return entry
  const capped: Entry<V> = {
    ...entry,
    freshUntil: Math.min(entry.freshUntil, until),
    staleUntil: Math.min(entry.staleUntil, until),
  }
  if (entry.errorUntil !== undefined) capped.errorUntil = Math.min(entry.errorUntil, until)
  return capped
}

/** The versioned, serializable form of an entry; its tags come first. */
export function toEnvelope(entry: Entry): Envelope {
  const base = { v: ENTRY_VERSION, value: entry.value, c: entry.createdAt, f: entry.freshUntil, s: entry.staleUntil }
  const envelope: Envelope = entry.tags === undefined ? base : { t: entry.tags, ...base }
  if (entry.errorUntil !== undefined) envelope.e = entry.errorUntil
  if (entry.negative === true) envelope.n = 1
  if (entry.loadMs !== undefined) envelope.d = entry.loadMs
  if (entry.stamp !== undefined) envelope.g = entry.stamp
  return envelope
}

/** The entry inside an envelope, or undefined when it is not a valid envelope of this version. */
export function fromEnvelope(input: unknown): Entry | undefined {
  if (typeof input !== 'object' || input === null) return undefined
  const env = input as Partial<Envelope>
  if (env.v !== ENTRY_VERSION || !('value' in env)) return undefined
  const { c, f, s, e, t, n, d, g } = env
  if (!isTime(c) || !isTime(f) || !isTime(s) || f < c || s < f) return undefined
  if (e !== undefined && (!isTime(e) || e < f)) return undefined
  if (t !== undefined && !(Array.isArray(t) && t.every((tag) => typeof tag === 'string'))) return undefined
  if (n !== undefined && n !== 1) return undefined
  if (d !== undefined && !(typeof d === 'number' && d >= 0)) return undefined
  if (g !== undefined && !isStamp(g)) return undefined
  if (n === 1 && env.value !== null) return undefined
  const entry: Entry = { value: env.value, createdAt: c, freshUntil: f, staleUntil: s }
  if (e !== undefined) entry.errorUntil = e
  if (t !== undefined) entry.tags = t
  if (n === 1) entry.negative = true
  if (d !== undefined) entry.loadMs = d
  if (g !== undefined) entry.stamp = g
  return entry
}

/** JSON text of an entry's envelope (tags first), for stores that hold strings (Redis, Cache API bodies). */
export function encodeEntry(entry: Entry): string {
  return JSON.stringify(toEnvelope(entry))
}

/** The entry in JSON text produced by encodeEntry, or undefined for anything else (never throws). */
export function decodeEntry(text: unknown): Entry | undefined {
  if (typeof text !== 'string') return fromEnvelope(text)
  try {
    return fromEnvelope(JSON.parse(text))
  } catch {
    return undefined
  }
}

/** Whether a store handed back something core can use as an entry. */
export function isEntry(input: unknown): input is Entry {
  if (typeof input !== 'object' || input === null) return false
  const entry = input as Entry
  return (
    'value' in entry &&
    isTime(entry.createdAt) &&
    isTime(entry.freshUntil) &&
    isTime(entry.staleUntil) &&
    (entry.errorUntil === undefined || isTime(entry.errorUntil)) &&
    (entry.stamp === undefined || isStamp(entry.stamp))
  )
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function isStamp(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}
