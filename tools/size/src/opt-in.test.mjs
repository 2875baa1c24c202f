// Optional features are values the app imports (a strategy, warm, a codec, a circuit breaker, write-behind, otel,
// withConsistentWrites): an app that does not import one must not bundle it. The budgets would notice such a module
// only once an entry grew 10%; this names it at once. Run by `npm test` (node --test), from the TypeScript sources
// (no build needed).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { measure } from './measure.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const monorepo = fileURLToPath(new URL('../../..', import.meta.url))
const budgets = JSON.parse(readFileSync(new URL('../budgets.json', import.meta.url), 'utf8'))

/** Each opt-in export, where it comes from, and the modules only it brings (paths in the bundle's metafile). */
const OPT_IN = [
  { name: 'refreshAhead', from: '@tiercache/core', modules: /core\/src\/engine\/(refresh-ahead|strategy)\.ts$/ },
  { name: 'slidingExpiry', from: '@tiercache/core', modules: /core\/src\/engine\/(sliding|strategy)\.ts$/ },
  { name: 'hotKeys', from: '@tiercache/core', modules: /core\/src\/engine\/(hot-keys|strategy)\.ts$/ },
  { name: 'warm', from: '@tiercache/core', modules: /core\/src\/engine\/warm\.ts$/ },
  { name: 'createWriteBehind', from: '@tiercache/core', modules: /core\/src\/write-behind\// },
  { name: 'withConsistentWrites', from: '@tiercache/core', modules: /core\/src\/consistent-writes\.ts$/ },
  { name: 'circuitBreaker', from: '@tiercache/core', modules: /core\/src\/stores\/circuit-breaker\.ts$/ },
  { name: 'createCodec', from: '@tiercache/core/codec', modules: /core\/src\/codec\// },
  { name: 'instrumentCache', from: '@tiercache/core/otel', modules: /core\/src\/otel\// },
]
const anyOptIn = new RegExp(OPT_IN.map((feature) => feature.modules.source).join('|'))

/** The modules of `entry` bundled as an app would, from the sources. */
async function modulesOf(entry) {
  return Object.keys((await measure(entry, root, { sources: monorepo })).inputs)
}

for (const entry of budgets.entries) {
  test(`${entry.name}: bundles no optional feature it does not import`, async () => {
    assert.deepEqual(
      (await modulesOf(entry)).filter((name) => anyOptIn.test(name)),
      [],
    )
  })
}

test('importing an optional feature bundles its modules: the check above can fail', async () => {
  for (const feature of OPT_IN) {
    const names = await modulesOf({ from: feature.from, imports: [feature.name], external: ['@opentelemetry/api'] })
    assert.ok(
      names.some((name) => feature.modules.test(name)),
      `${feature.name} from ${feature.from}: none of its modules in the bundle (renamed? update OPT_IN)`,
    )
  }
})
