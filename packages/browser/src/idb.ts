/**
 * IndexedDB helpers shared by the store and the coordinator, on top of idb-keyval's `promisifyRequest`.
 */
import { promisifyRequest } from 'idb-keyval'

/**
 * Resolves when the transaction committed; rejects with its error when it aborts. idb-keyval's `promisifyRequest`
 * rejects with `tx.error`, which is null for a transaction aborted by `abort()`: that becomes an AbortError.
 */
export function transactionDone(tx: IDBTransaction): Promise<void> {
  return promisifyRequest(tx).catch((error: DOMException | null) => {
    throw error ?? new DOMException('The transaction was aborted', 'AbortError')
  })
}

/**
 * How an IndexedDB operation failed, for an error message: `<name>: <message>`, and when the database `dbName` has
 * no object store `storeName` (NotFoundError), that and `advice`.
 */
export function describeFailure(error: unknown, dbName: string, storeName: string, advice: string): string {
  const name = String((error as { name?: unknown } | null)?.name ?? 'Error')
  const message = error instanceof Error || error instanceof DOMException ? error.message : String(error)
  const hint = name === 'NotFoundError' ? ` (database ${JSON.stringify(dbName)} has no object store ${JSON.stringify(storeName)}: ${advice})` : ''
  return `${name}: ${message}${hint}`
}
