export { redisStore } from './redis-store.js'
export type { RedisStoreOptions } from './redis-store.js'
export type { RedisClient } from './client.js'
export { keySlot } from './key-slot.js'
