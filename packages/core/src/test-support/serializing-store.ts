import { decodeEntry, encodeEntry, encodeEntryBytes, fromEnvelope, toEnvelope, type Entry } from '../entry.js'
import type { Store } from '../store.js'

/**
 * How a store keeps entries: as JSON text (Upstash, KV, Memcached), as bytes (Cache API bodies, Redis over TCP),
 * or as structured clones (IndexedDB).
 */
export type Keeping = 'text' | 'bytes' | 'clone'

/** A store that serializes every entry like the real stores of that kind, with its raw data in reach of tests. */
export class SerializingStore implements Store {
  readonly raw = new Map<string, unknown>()
  constructor(
    readonly name: string,
    readonly keeping: Keeping,
    readonly maxValueBytes?: number,
  ) {}

  async get(key: string): Promise<Entry | undefined> {
    await Promise.resolve()
    const data = this.raw.get(key)
    if (data === undefined) return undefined
    return this.keeping === 'clone' ? fromEnvelope(structuredClone(data)) : decodeEntry(data)
  }

  async set(key: string, entry: Entry): Promise<void> {
    await Promise.resolve()
    this.raw.set(key, this.keeping === 'text' ? encodeEntry(entry) : this.keeping === 'bytes' ? encodeEntryBytes(entry) : structuredClone(toEnvelope(entry)))
  }

  async delete(key: string): Promise<void> {
    this.raw.delete(key)
  }

  /** The raw data as bytes, to search for what must not be there. */
  bytesOf(key: string): Uint8Array {
    const data = this.raw.get(key)
    if (typeof data === 'string') return new TextEncoder().encode(data)
    if (data instanceof Uint8Array) return data
    return new TextEncoder().encode(JSON.stringify(data, (_, v: unknown) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : v)))
  }
}

/** Whether `needle` occurs in `haystack`, byte for byte. */
export function containsBytes(haystack: Uint8Array, needle: string): boolean {
  const n = new TextEncoder().encode(needle)
  outer: for (let i = 0; i + n.length <= haystack.length; i++) {
    for (let j = 0; j < n.length; j++) if (haystack[i + j] !== n[j]) continue outer
    return true
  }
  return false
}
