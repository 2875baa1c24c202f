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
