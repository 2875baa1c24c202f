export { IndexedDbStore, indexedDbStore, isQuotaError } from './indexeddb-store.js'
export type { IndexedDbStoreOptions } from './indexeddb-store.js'
export { createCachedFetch } from './cached-fetch.js'
export type { CachedFetchOptions } from './cached-fetch.js'
