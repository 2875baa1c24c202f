export { IndexedDbStore, indexedDbStore, isQuotaError } from './indexeddb-store.js'
export type { IndexedDbStoreOptions } from './indexeddb-store.js'
