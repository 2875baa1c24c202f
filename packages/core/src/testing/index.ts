export { runStoreContract } from './store-contract.js'
export type { StoreContractOptions } from './store-contract.js'
export { runWriteQueueContract } from './write-queue-contract.js'
export type { WriteQueueContractOptions } from './write-queue-contract.js'
