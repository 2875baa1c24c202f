import { assertSerializable } from '../validate.js'

/**
 * Turns values into text or bytes and back. Its `id` (with the format's version) is recorded in every entry it
 * writes, and a codec reads only entries of its own serializer: an entry written by another is a miss, never a
 * wrong value.
 */
export interface Serializer {
  /** Recorded in each entry: name and format version, 1 to 32 of `a-z 0-9 . _ -` (e.g. `devalue.1`). */
  readonly id: string
  /** True when encode produces bytes (decode then gets bytes); false for text. */
  readonly binary: boolean
  encode(value: unknown): string | Uint8Array
  /** The value from what encode produced: text for a text serializer, bytes for a binary one. */
  decode(data: string | Uint8Array): unknown
  /** Throws a TypeError naming `name` and the path of the first part of `value` that would not come back as it is. */
  check(value: unknown, name: string): void
}

/**
 * JSON, what tiers store without a codec: plain objects, arrays, strings, finite numbers, booleans and null.
 * With it (and no compression or encryption applied) entries stay in today's readable format.
 */
export const jsonSerializer: Serializer = {
  id: 'json.1',
  binary: false,
  encode: (value) => JSON.stringify(value),
  decode: (data) => JSON.parse(data as string) as unknown,
  check: assertSerializable,
}

export const SERIALIZER_ID = /^[a-z0-9._-]{1,32}$/
