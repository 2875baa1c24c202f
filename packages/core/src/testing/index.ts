export { runStoreContract } from './store-contract.js'
export type { StoreContractOptions } from './store-contract.js'
