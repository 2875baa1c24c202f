/**
 * How the entries object store of `indexedDbStore` lays out its keys, and the migration of the layout earlier
 * versions wrote (access times kept beside the entries).
 */
import { latest } from './indexeddb-access-times.js'

/**
 * Entries live under string keys. Databases written by earlier versions also hold access times in the entries
 * object store, under array keys `[key]`: reads keep to the string range, eviction and sweeps move them out.
 */
export const ENTRY_KEYS = lazyRange('entries')
const LEGACY_ACCESS_KEYS = lazyRange('legacy')

/** IDBKeyRange is read lazily: this module must load where IndexedDB does not exist (and then act as an empty tier). */
function lazyRange(side: 'entries' | 'legacy'): () => IDBKeyRange {
  let range: IDBKeyRange | undefined
  // Every string sorts below every array in IndexedDB's key order, and [] below every other array.
  return () => (range ??= side === 'entries' ? IDBKeyRange.upperBound([], true) : IDBKeyRange.lowerBound([]))
}

/**
 * Reads and deletes the access times an earlier version kept in the entries object store (array keys `[key]`):
 * call the returned function once a later request of the same transaction has succeeded.
 */
export function takeLegacyTimes(os: IDBObjectStore): () => Map<string, number> {
  const keys = os.getAllKeys(LEGACY_ACCESS_KEYS())
  const values = os.getAll(LEGACY_ACCESS_KEYS())
  os.delete(LEGACY_ACCESS_KEYS())
  return () => {
    const times = new Map<string, number>()
    keys.result.forEach((k, i) => {
      const key = Array.isArray(k) ? k[0] : undefined
      const at = Number(values.result[i])
      if (typeof key === 'string' && Number.isFinite(at)) times.set(key, latest(times.get(key), at) as number)
    })
    return times
  }
}
