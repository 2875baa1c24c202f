// The store contract every tiercache store passes, on fake-indexeddb under Node.
import { runStoreContract } from '@tiercache/core/testing'
import { indexedDbStore, type IndexedDbStore } from './indexeddb-store.js'

let clockAt = 1_700_000_000_000
const clock = { now: () => clockAt, advance: (ms: number) => void (clockAt += ms) }

runStoreContract({
  name: 'indexedDbStore (fake-indexeddb)',
  create: () => indexedDbStore({ dbName: `contract-${crypto.randomUUID()}`, now: clock.now }),
  clock,
  cleanup: async (stores) => {
    await Promise.all(stores.map((store) => (store as IndexedDbStore).close()))
  },
})
