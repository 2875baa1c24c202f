#!/usr/bin/env node
// pnpm --filter @tiercache/conformance conformance [-- --write] [-- --target private|shared]
//   Runs the HTTP cache test suite against createCachedFetch (private) and withCache in workerd (shared), prints the
//   per-suite pass counts beside the published results and compares them with tools/conformance/floor.json (exit
//   code 1 when fewer pass). --write records CONFORMANCE.md and floor.json instead.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { compareWithFloor, floorOf, readFloor, writeFloor } from './floor.mjs'
import { runConformance, versions } from './harness.mjs'
import { markdown, tally, textTable } from './report.mjs'
import { loadSuites } from './suite.mjs'

const DOC = fileURLToPath(new URL('../../../CONFORMANCE.md', import.meta.url))
const TITLES = { private: 'Private cache: createCachedFetch (Node, memory tier)', shared: 'Shared cache: withCache in workerd' }

const args = process.argv.slice(2)
const write = args.includes('--write')
const only = args.includes('--target') ? args[args.indexOf('--target') + 1] : undefined
if (only !== undefined && only !== 'private' && only !== 'shared') throw new TypeError(`--target must be private or shared, got ${only}`)
if (write && only !== undefined) throw new TypeError('--write records both targets: leave out --target')
/** @type {('private' | 'shared')[]} */
const targets = only === undefined ? ['private', 'shared'] : [only]

const floor = readFloor()
// Recording retries every failing test (so a loaded moment does not lower the record); checking retries the tests
// the record says pass.
const retry = write ? Object.fromEntries(await Promise.all(targets.map(async (t) => [t, { passing: (await loadSuites(t)).flatMap((s) => s.tests.filter((x) => x.kind !== 'check').map((x) => x.id)) }]))) : floor
const runs = await runConformance({ targets, floor: retry, log: (line) => process.stderr.write(`[conformance] ${line}\n`) })
const sections = []
let ok = true
for (const run of runs) {
  const t = await tally(run)
  sections.push({ title: TITLES[run.target], tally: t, run })
  process.stdout.write(`\n${TITLES[run.target]}: ${t.pass} of ${t.total} pass (required ${t.required.pass} of ${t.required.total})\n${textTable(t)}\n`)
  const compared = compareWithFloor(t, floor)
  process.stdout.write(`${compared.lines.join('\n')}\n`)
  ok &&= compared.ok
}
if (write) {
  writeFileSync(DOC, markdown({ versions: versions(), command: 'pnpm --filter @tiercache/conformance conformance -- --write', sections }))
  writeFloor(Object.fromEntries(sections.map((s) => [s.run.target, floorOf(s.tally)])))
  process.stdout.write('\nwrote CONFORMANCE.md and tools/conformance/floor.json\n')
} else if (!ok) {
  process.stdout.write('\nFAIL: fewer tests pass than recorded in tools/conformance/floor.json\n')
  process.exitCode = 1
}
