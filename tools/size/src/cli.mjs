// Measures every entry of budgets.json. --check: exit 1 when one is more than `tolerance` over its budget (CI).
// --write: record the sizes measured now as the budgets. --files: list the modules of each bundle by size.
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { measure, verdict } from './measure.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const budgetsFile = fileURLToPath(new URL('../budgets.json', import.meta.url))
const args = new Set(process.argv.slice(2).filter((arg) => arg !== '--'))
const config = JSON.parse(readFileSync(budgetsFile, 'utf8'))
const kib = (/** @type {number} */ bytes) => `${(bytes / 1024).toFixed(2)} KiB`

let failed = false
for (const entry of config.entries) {
  const { min, gzip, inputs } = await measure(entry, root)
  const { limit, over } = verdict(gzip, entry.budget, config.tolerance)
  const target = entry.target === undefined ? '' : `, target ${kib(entry.target)}${gzip <= entry.target ? ' (met)' : ''}`
  const line = `${entry.name}: ${kib(gzip)} min+gzip (${kib(min)} min); budget ${kib(entry.budget)}, limit ${kib(limit)}${target}`
  console.log(`${over ? 'OVER ' : ''}${line}`)
  if (args.has('--files')) {
    for (const [file, bytes] of Object.entries(inputs).sort((a, b) => b[1] - a[1])) if (bytes > 0) console.log(`    ${String(bytes).padStart(6)}  ${file}`)
  }
  if (over) failed = true
  if (args.has('--write')) entry.budget = gzip
}
if (args.has('--write')) writeFileSync(budgetsFile, `${JSON.stringify(config, null, 2)}\n`)
if (args.has('--check') && failed) {
  console.error('\nAn entry grew more than 10% over its budget (tools/size/budgets.json). Shrink it, or raise the budget with a reason in the commit.')
  process.exit(1)
}
