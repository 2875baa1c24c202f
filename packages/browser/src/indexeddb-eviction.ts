/**
 * The transaction of `indexedDbStore`'s least-recently-used eviction, past `maxEntries` or when storage is full: it
 * decides and deletes, and moves out the access times an earlier version kept in the entries object store
 * (indexeddb-layout.ts). The store runs one eviction at a time and reads and writes the access times around it.
 */
import { latest } from './indexeddb-access-times.js'
import { ENTRY_KEYS, takeLegacyTimes } from './indexeddb-layout.js'

/**
 * One eviction, in the readwrite transaction of `os`: deletes least recently used entries, for 'capacity' down to
 * 90% of `maxEntries`, for 'size' (quota) a quarter of them, by the stored `times` and the legacy ones; keys in
 * `keep` (just written) go last, an entry without a time counts as used `now`. Pushes the deleted keys to `victims`
 * and those without a time to `untimed`; resolves with the keys still there and the legacy times it took out.
 */
export function evictEntries(
  os: IDBObjectStore,
  reason: 'capacity' | 'size',
  maxEntries: number,
  times: ReadonlyMap<string, number>,
  keep: ReadonlySet<string>,
  now: number,
  victims: string[],
  untimed: string[],
): Promise<[present: Set<string>, legacy: Map<string, number>]> {
  const takeLegacy = takeLegacyTimes(os)
  const entryKeys = os.getAllKeys(ENTRY_KEYS())
  return new Promise((resolve, reject) => {
    entryKeys.onerror = () => reject(entryKeys.error)
    // Requests of one transaction complete in order: the legacy times are read by now too.
    entryKeys.onsuccess = () => {
      const legacy = takeLegacy()
      const keys = entryKeys.result as string[]
      const present = new Set(keys)
      const target = reason === 'capacity' ? maxEntries - Math.floor(maxEntries / 10) : keys.length - Math.max(1, Math.ceil(keys.length / 4))
      const excess = keys.length - Math.max(0, target)
      const order = keys.map((key) => {
        const at = latest(times.get(key), legacy.get(key))
        if (at === undefined && !keep.has(key)) untimed.push(key)
        return { key, at: keep.has(key) ? Infinity : (at ?? now) }
      })
      if (excess > 0) {
        order.sort((a, b) => a.at - b.at)
        for (let i = 0; i < excess; i++) {
          const { key } = order[i] as { key: string }
          os.delete(key)
          present.delete(key)
          victims.push(key)
        }
      }
      resolve([present, legacy])
    }
  })
}
