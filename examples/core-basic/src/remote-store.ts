import type { Store } from '@tiercache/core'
import { decodeEntry, encodeEntry } from '@tiercache/core/store'

/**
 * A stand-in for a shared tier outside the process (Redis, KV, Memcached): it keeps each entry as the text those
 * stores write, so what would sit on the server can be looked at. In an app, use redisStore, upstashStore, kvStore...
 */
export function remoteStore(name = 'remote', options: { maxValueBytes?: number } = {}) {
  const data = new Map<string, string>()
  const store: Store & { data: Map<string, string> } = {
    name,
    data,
    maxValueBytes: options.maxValueBytes,
    async get(key) {
      const text = data.get(key)
      return text === undefined ? undefined : decodeEntry(text)
    },
    async set(key, entry) {
      data.set(key, encodeEntry(entry))
    },
    async delete(key) {
      data.delete(key)
    },
  }
  return store
}
