/**
 * Node drives Debian's Chromium (playwright-core, harness.ts) through the scenarios that need more than one page
 * load: reloads, two tabs, a real HTTP server with caching headers, storage quota. One browser and one bundle for
 * all of them: a launch costs about a second of CPU, and CI machines have two cores.
 */
import { afterAll, beforeAll } from 'vitest'
import { createHarness, modulePage, type Harness } from './harness.js'
import { adapterBundles, adapterRoutes, adapterScenarios } from './scenarios/adapters.js'
import { cachedFetchRoutes, cachedFetchScenarios } from './scenarios/cached-fetch.js'
import { coherenceScenarios } from './scenarios/coherence.js'
import { crossTabRoutes, crossTabScenarios } from './scenarios/cross-tab.js'
import { appEntry, type DriverEnv } from './scenarios/env.js'
import { persistenceRoutes, persistenceScenarios } from './scenarios/persistence.js'
import { quotaScenarios } from './scenarios/quota.js'

let harness: Harness | undefined
const env: DriverEnv = {
  get h() {
    if (harness === undefined) throw new Error('the harness is not up yet (beforeAll)')
    return harness
  },
}

beforeAll(async () => {
  harness = await createHarness({
    bundles: { app: appEntry, ...adapterBundles },
    pages: { '/swr': modulePage('swr'), '/react': modulePage('react') },
    routes: { ...persistenceRoutes, ...cachedFetchRoutes, ...crossTabRoutes, ...adapterRoutes },
  })
})
afterAll(async () => {
  await harness?.close()
})

persistenceScenarios(env)
coherenceScenarios(env)
crossTabScenarios(env)
adapterScenarios(env)
cachedFetchScenarios(env)
quotaScenarios(env)
