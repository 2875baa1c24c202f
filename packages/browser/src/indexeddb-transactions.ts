/**
 * The transaction helpers of `indexedDbStore`: every operation runs through runTransaction, which turns a closed
 * store, a missing IndexedDB and every other failure into a `CacheError` (code 'TIER_ERROR') naming the tier, the
 * operation and the key; a readwrite transaction resolves once it committed.
 */
import { CacheError } from '@tiercache/core'
import type { UseStore } from 'idb-keyval'
import { describeFailure, transactionDone } from './idb.js'

/**
 * Runs `fn` with the connections of the store `tier` (its entries and its access times), unless it is closed or has
 * no IndexedDB. Rejects with a CacheError (tierError) when it cannot or when fn fails.
 */
export async function runTransaction<T>(
  tier: { name: string; dbName: string; storeName: string },
  closed: boolean,
  useStore: UseStore | undefined,
  useTimes: UseStore | undefined,
  operation: string,
  key: string,
  fn: (useEntries: UseStore, useTimes: UseStore) => Promise<T>,
): Promise<T> {
  if (closed) throw new CacheError('TIER_ERROR', `${tier.name} is closed`, { tier: tier.name, key })
  if (useStore === undefined || useTimes === undefined) {
    throw new CacheError('TIER_ERROR', `${tier.name}: IndexedDB is not available here (indexedDB is undefined); the tier acts empty`, {
      tier: tier.name,
      key,
    })
  }
  try {
    return await fn(useStore, useTimes)
  } catch (error) {
    throw tierError(error, tier.name, operation, key, tier.dbName, tier.storeName)
  }
}

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
  const failure = describeFailure(error, dbName, storeName, 'idb-keyval creates one object store per database, use another dbName')
  return new CacheError('TIER_ERROR', `${tier} ${operation} failed: ${failure}`, { tier, key, cause: error })
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
