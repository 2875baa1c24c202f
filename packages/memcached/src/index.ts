export { expiresField, MAX_KEY_BYTES, memcachedStore, RELATIVE_EXPIRY_LIMIT_S } from './memcached-store.js'
export type { MemcachedClient, MemcachedStoreOptions } from './memcached-store.js'
