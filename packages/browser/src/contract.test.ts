// Probe: the same contract suite runs under plain Node against fake-indexeddb.
import { idbProbeStore } from '../test/fixtures/idb-probe-store.js'
import { runProbeStoreContract } from '../test/fixtures/store-contract.js'

runProbeStoreContract({
  name: 'idb-keyval on fake-indexeddb',
  create: () => idbProbeStore(`contract-${crypto.randomUUID()}`),
})
