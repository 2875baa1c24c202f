/**
 * The least-recently-used eviction of `indexedDbStore`, past `maxEntries` or when storage is full: it reads the access
 * times, decides and deletes in one transaction of the entries, which also moves out the access times an earlier
 * version kept in the entries object store (indexeddb-layout.ts), and then brings the access times in line. The store
 * runs one eviction at a time. Also the 'evict' events the store sends its watchers (evictions and expired entries).
 */
import type { EvictionReason, StoreEvent } from '@tiercache/core'
import { latest, putTime } from './indexeddb-access-times.js'
import { ENTRY_KEYS, takeLegacyTimes } from './indexeddb-layout.js'

/**
 * Deletes least recently used entries in one transaction: for 'capacity', down to 90% of maxEntries once
 * over it; for 'size' (quota), a quarter of them. Keys in `keep` (just written) go last.
 *
 * Times are read from `<dbName>-lru` first (`stored`), then one transaction of the entries (`write`) decides and
 * deletes, then one of the times (`writeTimes`) drops what is gone. Tabs run this concurrently, and between those
 * steps another tab may write or delete: an entry without a time (its tab has not flushed yet, or the time write
 * failed) counts as used now and gets that time; a time without an entry is deleted. Each deleted key is reported to
 * `evicted` before the times are written.
 */
export async function evict(
  reason: 'capacity' | 'size',
  keep: ReadonlySet<string>,
  maxEntries: number,
  now: number,
  stored: Promise<Map<string, number>>,
  write: (fn: (os: IDBObjectStore) => Promise<[Set<string>, Map<string, number>]>) => Promise<[Set<string>, Map<string, number>]>,
  writeTimes: (fn: (os: IDBObjectStore) => void) => Promise<void>,
  evicted: (key: string) => void,
): Promise<void> {
  // Without the times (the database failing) eviction still bounds the store, in key order.
  const times = await stored.catch(() => new Map<string, number>())
  const victims: string[] = []
  const untimed: string[] = []
  const [present, legacy] = await write((os) => evictEntries(os, reason, maxEntries, times, keep, now, victims, untimed))
  for (const key of victims) evicted(key)
  // The victims' times, and times whose entry is gone (deleted or evicted by another tab, written after a delete).
  const gone = new Set(victims)
  for (const key of times.keys()) if (!present.has(key)) gone.add(key)
  await writeTimes((os) => {
    for (const key of gone) os.delete(key)
    for (const [key, at] of legacy) if (present.has(key)) putTime(os, key, at, 'later')
    for (const key of untimed) if (present.has(key)) putTime(os, key, now, 'absent')
  })
}

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

/** Tells each of the store's `listeners` (watch) that `key` left it, for `reason`: an 'evict' event. */
export function emitEvict(listeners: readonly ((event: StoreEvent) => void)[], key: string, reason: EvictionReason): void {
  for (const listener of listeners) {
    try {
      listener({ type: 'evict', key, reason })
    } catch {
      // A listener's failure is not the store's.
    }
  }
}
