import { createStore, get as idbGet, promisifyRequest } from 'idb-keyval'
import { describe, expect, it } from 'vitest'
import { transactionDone } from './idb.js'

describe('transactionDone', () => {
  it("resolves on commit and names an abort() that idb-keyval's promisifyRequest rejects with null", async () => {
    const raw = createStore(`unit-${crypto.randomUUID()}`, 'entries')
    await raw('readwrite', (os) => {
      const done = transactionDone(os.transaction)
      os.put(1, 'k')
      return done
    })
    expect(await idbGet('k', raw)).toBe(1)
    // Each on its own transaction: both set the transaction's onabort handler.
    const aborted = (settle: (tx: IDBTransaction) => Promise<unknown>) =>
      raw('readwrite', (os) => {
        const settled = settle(os.transaction).then(() => 'committed', (error: unknown) => error)
        os.put(2, 'k')
        os.transaction.abort()
        return settled
      })
    const ours = await aborted(transactionDone)
    const theirs = await aborted((tx) => promisifyRequest(tx))
    expect(ours).toMatchObject({ name: 'AbortError' })
    expect(theirs).toBeNull()
    expect(await idbGet('k', raw)).toBe(1)
  })
})
