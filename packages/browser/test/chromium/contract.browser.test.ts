// Probe: a contract suite defined in another module (like runStoreContract from
// @tiercache/core/testing) runs in vitest browser mode against Chromium's real IndexedDB.
import { idbProbeStore } from '../fixtures/idb-probe-store.js'
import { runProbeStoreContract } from '../fixtures/store-contract.js'

runProbeStoreContract({
  name: 'idb-keyval in real Chromium',
  // A fresh database per case: files of one browser session share the origin's IndexedDB.
  create: () => idbProbeStore(`contract-${crypto.randomUUID()}`),
})
