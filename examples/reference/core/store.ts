// packages/core/README.md, "Writing a store": a tier over any key-value backend, serialized with core's envelope.
import type { Entry, Store } from '@tiercache/core'
import { decodeEntry, encodeEntry, lastServable } from '@tiercache/core/store'

/** The backend: anything with string get/set(with expiry)/delete. */
export interface KeyValue {
  get(key: string): Promise<string | undefined>
  set(key: string, value: string, expiresAt: number): Promise<void>
  delete(key: string): Promise<void>
}

export function keyValueStore(kv: KeyValue, prefix = 'app:'): Store {
  return {
    name: 'kv',
    async get(key) {
      const raw = await kv.get(prefix + key)
      if (raw === undefined) return undefined
      const entry = decodeEntry(raw) // undefined for another format version: a miss
      if (entry === undefined) await kv.delete(prefix + key)
      return entry
    },
    async set(key: string, entry: Entry) {
      await kv.set(prefix + key, encodeEntry(entry), lastServable(entry)) // dropped after its last servable moment
    },
    async delete(key) {
      await kv.delete(prefix + key)
    },
  }
}
