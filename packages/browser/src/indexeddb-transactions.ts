/**
 * The transaction helpers of `indexedDbStore`: a readwrite transaction that resolves once it committed, and the
 * `CacheError` (code 'TIER_ERROR') every other failure becomes, naming the tier, the operation and the key.
 */
import { CacheError } from '@tiercache/core'
import type { UseStore } from 'idb-keyval'
import { transactionDone } from './idb.js'

/** A readwrite transaction running `fn`; resolves with fn's result once it committed. */
export function writeTransaction<T>(useStore: UseStore, fn: (os: IDBObjectStore) => T | IDBRequest<T> | Promise<T>): Promise<T> {
  return useStore('readwrite', async (os) => {
    const committed = transactionDone(os.transaction)
    // A failing request aborts the transaction: its error arrives through `committed`.
    committed.catch(() => undefined)
    const out = fn(os)
    const result = out instanceof IDBRequest ? undefined : await out
    await committed
    // A request's result is there once its transaction has committed.
    return out instanceof IDBRequest ? (out.result as T) : (result as T)
  })
}

/** What a failed `operation` of the store `tier` throws: quota errors and CacheErrors as they are, others wrapped. */
export function tierError(error: unknown, tier: string, operation: string, key: string, dbName: string, storeName: string): unknown {
  if (error instanceof CacheError || isQuotaError(error)) return error
  const name = (error as { name?: unknown } | null)?.name
  const message = error instanceof Error || error instanceof DOMException ? error.message : String(error)
  const hint =
    name === 'NotFoundError'
      ? ` (database ${JSON.stringify(dbName)} has no object store ${JSON.stringify(storeName)}: idb-keyval creates one object store per database, use another dbName)`
      : ''
  return new CacheError('TIER_ERROR', `${tier} ${operation} failed: ${String(name ?? 'Error')}: ${message}${hint}`, {
    tier,
    key,
    cause: error,
  })
}

/**
 * Whether an error means storage is full (Chromium and Firefox name it differently across versions).
 *
 * @example
 * try { await set(key, value, useStore) } catch (error) { if (isQuotaError(error)) makeRoom() }
 */
export function isQuotaError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED'
}
