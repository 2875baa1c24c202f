/**
 * The access times behind `indexedDbStore`'s least-recently-used eviction, as stored in the database `<dbName>-lru`:
 * how a flush writes them, how an eviction reads them, and how a time is merged with one already stored.
 */
import { promisifyRequest, type UseStore } from 'idb-keyval'

/** The object store of the access-time database `<dbName>-lru`: entry key -> last access (epoch ms). */
export const ACCESS_STORE = 'access'
/** Most access times written by one transaction of a flush. */
const FLUSH_CHUNK = 100

/**
 * Writes a flush's times in transactions of FLUSH_CHUNK, one after the other. Another database or not, a read
 * issued while times are written waits for the writes already sent (measured in Chromium 156: a getMany(100)
 * issued as 1,000 times are written takes ~100 ms instead of ~10; ~20 ms with chunks of 100).
 */
export async function writeBatch(
  batch: readonly (readonly [key: string, at: number | null])[],
  writeTimes: (fn: (os: IDBObjectStore) => void) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < batch.length; i += FLUSH_CHUNK) {
    await writeTimes((os) => {
      for (const [key, at] of batch.slice(i, i + FLUSH_CHUNK)) {
        if (at === null) os.delete(key)
        else os.put(at, key)
      }
    })
  }
}

/** Every stored access time, in one readonly transaction of `<dbName>-lru`. */
export function readTimes(useTimes: UseStore): Promise<Map<string, number>> {
  return useTimes('readonly', (os) => {
    const keys = os.getAllKeys()
    const values = os.getAll()
    return promisifyRequest(values).then((ats) => {
      const times = new Map<string, number>()
      keys.result.forEach((key, i) => {
        const at = Number(ats[i])
        if (typeof key === 'string' && Number.isFinite(at)) times.set(key, at)
      })
      return times
    })
  })
}

/** Puts an access time unless a later one is stored ('later'), or unless any is stored ('absent'). */
export function putTime(os: IDBObjectStore, key: string, at: number, unless: 'later' | 'absent'): void {
  const read = os.get(key)
  read.onsuccess = () => {
    const stored = read.result === undefined ? undefined : Number(read.result)
    if (stored === undefined || (unless === 'later' && !(stored >= at))) os.put(at, key)
  }
}

export function latest(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b)
}

/** A timer that does not keep Node's event loop alive (a no-op in browsers). */
export function unrefTimer(timer: unknown): void {
  ;(timer as { unref?: () => void }).unref?.()
}
