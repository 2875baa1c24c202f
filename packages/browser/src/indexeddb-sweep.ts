/**
 * How `indexedDbStore` deletes the entries it can no longer serve (expired or undecodable): the background sweep, a
 * bounded pass over the entries that also moves out the access times an earlier version kept in the entries object
 * store (indexeddb-layout.ts), run one at a time every `sweepInterval` from where the last one stopped; and the
 * deletion of a dead entry a read came across.
 */
import type { Entry } from '@tiercache/core'
import { fromEnvelope, lastServable } from '@tiercache/core/store'
import { ENTRY_KEYS, takeLegacyTimes } from './indexeddb-layout.js'

/** Whether an entry read back (undefined: undecodable) can still be served at `now`. */
export function isLive(entry: Entry | undefined, now: number): entry is Entry {
  return entry !== undefined && !(lastServable(entry) <= now)
}

/**
 * One sweep, in the readwrite transaction of `os`: looks at up to `limit` entries after `from` (from the first when
 * undefined) and deletes the dead ones, pushing their keys to `removed`. Resolves with the key to go on from
 * (undefined once it reached the end) and the legacy access times it took out.
 */
export function sweepEntries(
  os: IDBObjectStore,
  from: string | undefined,
  limit: number,
  now: number,
  removed: string[],
): Promise<[next: string | undefined, legacy: Map<string, number>]> {
  const takeLegacy = takeLegacyTimes(os)
  const range = from === undefined ? ENTRY_KEYS() : IDBKeyRange.bound(from, [], true, true)
  const cursorRequest = os.openCursor(range)
  let seen = 0
  return new Promise((resolve, reject) => {
    cursorRequest.onerror = () => reject(cursorRequest.error)
    cursorRequest.onsuccess = () => {
      const cursor = cursorRequest.result
      if (cursor === null) return resolve([undefined, takeLegacy()])
      const key = cursor.key as string
      if (!isLive(fromEnvelope(cursor.value), now)) {
        cursor.delete()
        removed.push(key)
      }
      if (++seen >= limit) return resolve([key, takeLegacy()])
      cursor.continue()
    }
  })
}

/**
 * In the readwrite transaction of `os`: deletes `key` if its entry is still expired or undecodable (another tab may
 * have written a live entry since it was read). Returns whether it did, to ask once the transaction committed.
 */
export function deleteIfDead(os: IDBObjectStore, key: string, now: number): () => boolean {
  let dropped = false
  const read = os.get(key)
  read.onsuccess = () => {
    if (read.result !== undefined && !isLive(fromEnvelope(read.result), now)) {
      os.delete(key)
      dropped = true
    }
  }
  return () => dropped
}
