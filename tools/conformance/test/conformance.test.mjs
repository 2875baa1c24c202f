// npm test: the suite against both targets, reported, and a floor: fewer passing tests than recorded in
// floor.json fails the run (tests that passed when recorded are run again up to five times first; see harness.mjs).
import { expect, test } from 'vitest'
import { compareWithFloor, readFloor } from '../src/floor.mjs'
import { runConformance } from '../src/harness.mjs'
import { tally, textTable } from '../src/report.mjs'

test('HTTP cache test suite: pass counts stay at or above floor.json', async () => {
  const floor = readFloor()
  const runs = await runConformance({ floor, log: (line) => console.log(`[conformance] ${line}`) })
  const failures = []
  for (const run of runs) {
    const t = await tally(run)
    const compared = compareWithFloor(t, floor)
    console.log(`${run.describe}\n${textTable(t)}\n${compared.lines.join('\n')}`)
    if (!compared.ok) failures.push(compared.lines.join('\n'))
    expect(floor[run.target], `floor.json records ${run.target}`).toBeDefined()
  }
  expect(failures).toEqual([])
})
