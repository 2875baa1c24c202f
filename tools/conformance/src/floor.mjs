// The last recorded result (tools/conformance/floor.json): pass counts and the passing tests of each target.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const FLOOR_FILE = fileURLToPath(new URL('../floor.json', import.meta.url))

/** @typedef {Record<string, { pass: number, total: number, passing: string[] }>} Floor */

/** @returns {Floor} */
export function readFloor() {
  return existsSync(FLOOR_FILE) ? JSON.parse(readFileSync(FLOOR_FILE, 'utf8')) : {}
}

/** @param {Floor} floor */
export function writeFloor(floor) {
  writeFileSync(FLOOR_FILE, `${JSON.stringify(floor, null, 2)}\n`)
}

/**
 * What a tally records.
 * @param {import('./report.mjs').Tally} t
 */
export function floorOf(t) {
  return { pass: t.pass, total: t.total, passing: t.passing }
}

/**
 * Lines saying how a tally compares with the floor; `ok` false when it passes fewer tests.
 * @param {import('./report.mjs').Tally} t
 * @param {Floor} floor
 */
export function compareWithFloor(t, floor) {
  const recorded = floor[t.mode]
  if (recorded === undefined) return { ok: true, lines: [`${t.mode}: ${t.pass} of ${t.total} (no floor recorded)`] }
  const now = new Set(t.passing)
  const lost = recorded.passing.filter((id) => !now.has(id))
  const lines = [`${t.mode}: ${t.pass} of ${t.total} pass, floor ${recorded.pass}`]
  if (lost.length > 0) lines.push(`  no longer passing: ${lost.join(' ')}`)
  return { ok: t.pass >= recorded.pass, lines }
}
