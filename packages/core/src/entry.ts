import { binaryKind, concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from './bytes.js'
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
  /**
   * How `value` was encoded for the tier holding it, when a codec (`createCache({ codec })`) encoded it: the
   * serializer and its version, then the compression and the encryption key id if any (e.g.
   * `devalue.6+gzip+aes-gcm.k1`); `value` is then the encoded payload (text or bytes). Set by codecs only: an entry
   * carrying it is never served without the codec that decodes it.
   */
  codec?: string
}

/** Format version of serialized entries; an envelope with another version is a miss. */
export const ENTRY_VERSION = 1
/**
 * Format version of envelopes whose value must be decoded before use (a binary value, `b`; a codec's payload,
 * `x`): readers that only know version 1 (tiercache 0.1) take them as misses instead of serving the encoding.
 */
export const ENCODED_ENTRY_VERSION = 2

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
 * | `b` | the value is binary: 1 = Uint8Array, 2 = ArrayBuffer (base64 text in JSON, raw bytes elsewhere); version 2 |
 * | `x` | codec: how the value was encoded (Entry.codec); version 2 |
 *
 * Stores that keep bytes (`encodeEntryBytes`) write an envelope with a binary value as its JSON header without
 * `value`, a newline (0x0A, which JSON text never holds), then the bytes unencoded: no base64 inflation, and the
 * tags still at the head of the data for Redis scripts.
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
  b?: 1 | 2
  x?: string
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

/**
 * Builds the entry for a loaded (or set) value under a resolved policy. `stamp` is the coordinator's stamp when the
 * load started; only a tagged entry keeps it (nothing else can kill an entry by stamp).
 */
export function createEntry<V>(
  value: V | null | undefined,
  policy: ResolvedPolicy,
  createdAt: number,
  loadMs: number | undefined,
  random: () => number,
  stamp?: number,
): Entry<V | null> {
  if (value === null || value === undefined) {
    const until = createdAt + policy.negativeTtl
    const entry: Entry<null> = { value: null, createdAt, freshUntil: until, staleUntil: until, negative: true }
    if (policy.tags !== undefined) {
      entry.tags = policy.tags
      if (stamp !== undefined) entry.stamp = stamp
    }
    return entry
  }
  // Jitter only shortens: the policy's ttl stays the upper bound that headers promise.
  const ttl = policy.jitter > 0 ? policy.ttl * (1 - policy.jitter * random()) : policy.ttl
  const freshUntil = createdAt + ttl
  const entry: Entry<V> = { value, createdAt, freshUntil, staleUntil: freshUntil + policy.swr }
  if (policy.staleIfError > 0) entry.errorUntil = freshUntil + policy.staleIfError
  if (policy.tags !== undefined) {
    entry.tags = policy.tags
    if (stamp !== undefined) entry.stamp = stamp
  }
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
  const kind = binaryKind(entry.value)
  const version = kind === 0 && entry.codec === undefined ? ENTRY_VERSION : ENCODED_ENTRY_VERSION
  const base = { v: version, value: entry.value, c: entry.createdAt, f: entry.freshUntil, s: entry.staleUntil }
  const envelope: Envelope = entry.tags === undefined ? base : { t: entry.tags, ...base }
  if (entry.errorUntil !== undefined) envelope.e = entry.errorUntil
  if (entry.negative === true) envelope.n = 1
  if (entry.loadMs !== undefined) envelope.d = entry.loadMs
  if (entry.stamp !== undefined) envelope.g = entry.stamp
  if (kind !== 0) envelope.b = kind
  if (entry.codec !== undefined) envelope.x = entry.codec
  return envelope
}

/** The entry inside an envelope, or undefined when it is not a valid envelope of this version. */
export function fromEnvelope(input: unknown): Entry | undefined {
  if (typeof input !== 'object' || input === null) return undefined
  const env = input as Partial<Envelope>
  if (!('value' in env)) return undefined
  const { c, f, s, e, t, n, d, g, b, x } = env
  if (env.v === ENTRY_VERSION) {
    if (b !== undefined || x !== undefined) return undefined
  } else if (env.v !== ENCODED_ENTRY_VERSION || (b === undefined && x === undefined)) return undefined
  if (!isTime(c) || !isTime(f) || !isTime(s) || f < c || s < f) return undefined
  if (e !== undefined && (!isTime(e) || e < f)) return undefined
  if (t !== undefined && !(Array.isArray(t) && t.every((tag) => typeof tag === 'string'))) return undefined
  if (n !== undefined && n !== 1) return undefined
  if (d !== undefined && !(typeof d === 'number' && d >= 0)) return undefined
  if (g !== undefined && !isStamp(g)) return undefined
  if (x !== undefined && (typeof x !== 'string' || x === '')) return undefined
  let value: unknown = env.value
  if (b !== undefined) {
    value = binaryValue(value, b)
    if (value === undefined) return undefined
  }
  // A codec's payload stands for the value, null included.
  if (n === 1 && value !== null && x === undefined) return undefined
  const entry: Entry = { value, createdAt: c, freshUntil: f, staleUntil: s }
  if (e !== undefined) entry.errorUntil = e
  if (t !== undefined) entry.tags = t
  if (n === 1) entry.negative = true
  if (d !== undefined) entry.loadMs = d
  if (g !== undefined) entry.stamp = g
  if (x !== undefined) entry.codec = x
  return entry
}

/** The binary value an envelope's `value` holds (raw bytes, or base64 text from JSON), or undefined. */
function binaryValue(value: unknown, kind: unknown): Uint8Array | ArrayBuffer | undefined {
  let bytes: Uint8Array
  if (typeof value === 'string') {
    try {
      bytes = fromBase64(value)
    } catch {
      return undefined
    }
  } else if (value instanceof Uint8Array) bytes = value
  else if (value instanceof ArrayBuffer) bytes = new Uint8Array(value)
  else return undefined
  if (kind === 1) return bytes
  if (kind === 2) return copyBytes(bytes).buffer
  return undefined
}

/** A plain Uint8Array with its own buffer (not a Buffer, not a view into a pool). */
function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes.length)
  copy.set(bytes)
  return copy
}

function bytesOf(value: unknown): Uint8Array {
  return value instanceof ArrayBuffer ? new Uint8Array(value) : (value as Uint8Array)
}

/**
 * JSON text of an entry's envelope (tags first), for stores that hold strings (Upstash, KV, Memcached). A binary
 * value is written as base64 (see encodeEntryBytes for stores that keep bytes).
 */
export function encodeEntry(entry: Entry): string {
  const envelope = toEnvelope(entry)
  if (envelope.b !== undefined) envelope.value = toBase64(bytesOf(envelope.value))
  return JSON.stringify(envelope)
}

/**
 * An entry's envelope for stores that keep bytes (Cache API bodies, Redis over TCP): the JSON text of encodeEntry
 * when its value is not binary; otherwise bytes, the JSON header (tags first, no `value`), a newline, then the
 * value's bytes as they are.
 */
export function encodeEntryBytes(entry: Entry): string | Uint8Array {
  const envelope = toEnvelope(entry)
  if (envelope.b === undefined) return JSON.stringify(envelope)
  const bytes = bytesOf(envelope.value)
  const header: Partial<Envelope> = envelope
  delete header.value
  return concatBytes([utf8(`${JSON.stringify(header)}\n`), bytes])
}

/**
 * The entry in what encodeEntry or encodeEntryBytes produced (text, bytes, or the envelope object a client parsed),
 * or undefined for anything else (never throws).
 */
export function decodeEntry(data: unknown): Entry | undefined {
  try {
    if (typeof data === 'string') return fromEnvelope(JSON.parse(data))
    if (data instanceof ArrayBuffer) data = new Uint8Array(data)
    if (!(data instanceof Uint8Array)) return fromEnvelope(data)
    const newline = data.indexOf(10)
    if (newline === -1) return fromEnvelope(JSON.parse(fromUtf8(data)))
    const header = JSON.parse(fromUtf8(data.subarray(0, newline))) as Partial<Envelope> | null
    if (typeof header !== 'object' || header === null || 'value' in header || header.b === undefined) return undefined
    // A copy: the bytes may be a view into a larger buffer the client reuses (Node's Buffer pool).
    header.value = copyBytes(data.subarray(newline + 1))
    return fromEnvelope(header)
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
