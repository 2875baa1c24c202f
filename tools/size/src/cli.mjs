// Measures every entry of budgets.json. --check: exit 1 when one is more than `tolerance` over its budget (CI).
// --write: record the sizes measured now as the budgets. --files: list the modules of each bundle by size.
// --modules: bundle the packages' TypeScript sources instead (build not needed) and list each module with what
// imports it: where to look when an entry grows. --gzip: from the sources too, what each module costs in gzip bytes
// (how much the gzipped bundle shrinks without it).
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipShares, importersOf, measure, verdict } from './measure.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const monorepo = fileURLToPath(new URL('../../..', import.meta.url))
const budgetsFile = fileURLToPath(new URL('../budgets.json', import.meta.url))
const args = new Set(process.argv.slice(2).filter((arg) => arg !== '--'))
const config = JSON.parse(readFileSync(budgetsFile, 'utf8'))
const kib = (/** @type {number} */ bytes) => `${(bytes / 1024).toFixed(2)} KiB`
const short = (/** @type {string} */ file) => file.replace(/^(\.\.\/)+/, '').replace(/^packages\//, '').replace(/^node_modules\/\.pnpm\/[^/]+\/node_modules\//, '')

let failed = false
for (const entry of config.entries) {
  const sources = args.has('--modules') ? monorepo : undefined
  const { min, gzip, inputs, upfront, lazy, metafile, contents } = await measure(entry, root, { sources })
  const { limit, over } = verdict(gzip, entry.budget, config.tolerance)
  const target = entry.target === undefined ? '' : `, target ${kib(entry.target)}${gzip <= entry.target ? ' (met)' : ''}`
  const from = sources === undefined ? '' : ' [from sources]'
  console.log(`${over ? 'OVER ' : ''}${entry.name}${from}: ${kib(gzip)} min+gzip (${kib(min)} min); budget ${kib(entry.budget)}, limit ${kib(limit)}${target}`)
  if (lazy.length > 0) {
    const lazyGzip = lazy.reduce((sum, chunk) => sum + chunk.gzip, 0)
    console.log(`    with code splitting: ${kib(upfront.gzip)} up front (entry and its static chunks, each gzipped), ${kib(lazyGzip)} in ${lazy.length} lazy chunk(s)`)
  }
  if (args.has('--files') || args.has('--modules')) {
    const why = args.has('--modules') ? importersOf(metafile, root, contents) : undefined
    const total = Object.values(inputs).reduce((sum, bytes) => sum + bytes, 0)
    for (const [file, bytes] of Object.entries(inputs).sort((a, b) => b[1] - a[1])) {
      if (bytes === 0) continue
      const by = why === undefined ? '' : `  <- ${(why.get(file) ?? []).join('; ')}`
      console.log(`    ${String(bytes).padStart(6)} ${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${short(file)}${by}`)
    }
    for (const chunk of lazy) console.log(`    lazy ${chunk.name}: ${kib(chunk.gzip)} (${chunk.inputs.map(short).join(', ')})`)
  }
  if (args.has('--gzip')) {
    const shares = await gzipShares(entry, root, monorepo)
    console.log(`    gzip bytes each module costs (the bundle without it), from the sources; ${shares.gzip} B gzip in all:`)
    for (const module of shares.modules) console.log(`    ${String(module.gzip).padStart(6)} gzip ${String(module.min).padStart(6)} min  ${short(module.name)}`)
  }
  if (over) failed = true
  if (args.has('--write')) entry.budget = gzip
}
if (args.has('--write') && !args.has('--modules')) writeFileSync(budgetsFile, `${JSON.stringify(config, null, 2)}\n`)
if (args.has('--check') && failed) {
  console.error('\nAn entry grew more than 10% over its budget (tools/size/budgets.json). Shrink it, or raise the budget with a reason in the commit.')
  process.exit(1)
}
