// What the harness uses of the pinned http-cache-tests package: its test definitions, its result classifier and
// the published results of browsers and shared caches that ship with it.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)
/** Root of the installed http-cache-tests package. */
export const SUITE_DIR = dirname(require.resolve('http-cache-tests/package.json'))
export const SUITE_VERSION = /** @type {{ version: string }} */ (JSON.parse(readFileSync(join(SUITE_DIR, 'package.json'), 'utf8'))).version

/** @param {string} path relative to the package root */
export function suiteUrl(path) {
  return pathToFileURL(join(SUITE_DIR, path)).href
}

/**
 * @typedef {{ id: string, name: string, kind?: 'required' | 'optimal' | 'check', browser_only?: boolean,
 *   browser_skip?: boolean, depends_on?: string[], requests: object[] }} SuiteTest
 * @typedef {{ id: string, name: string, description?: string, tests: SuiteTest[] }} Suite
 * @typedef {Record<string, true | [string, string]>} Results
 * @typedef {'private' | 'shared'} Mode
 */

/**
 * The suites a cache of this mode is tested with, as the suite's own CLI and web page pick them: the shared-cache
 * run adds Surrogate-Control; browser_only tests are for private caches, browser_skip ones for shared caches.
 * @param {Mode} mode
 * @returns {Promise<Suite[]>}
 */
export async function loadSuites(mode) {
  const suites = /** @type {Suite[]} */ ((await import(suiteUrl('tests/index.mjs'))).default)
  /** @type {Suite[]} */
  const all = mode === 'shared' ? [...suites, (await import(suiteUrl('tests/surrogate-control.mjs'))).default] : suites
  // Fresh copies: the runner writes into the test objects.
  return all.map((suite) => ({
    ...suite,
    tests: suite.tests.filter((t) => (mode === 'private' ? t.browser_skip !== true : t.browser_only !== true)).map((t) => structuredClone(t)),
  }))
}

/**
 * The suite's own classifier (lib/display.mjs). It returns [icon, colour, symbol]; the symbol is '✅' for a pass,
 * '⛔️' a required failure, '⚠️' an optimal failure, '⚪️' a failed dependency, '🔹' a failed setup step.
 * @returns {Promise<(suites: Suite[], id: string, results: Results) => [string, string, string]>}
 */
export async function determineTestResult() {
  return (await import(suiteUrl('lib/display.mjs'))).determineTestResult
}

/**
 * The published results shipped in the package (results/index.mjs lists them).
 * @returns {Promise<{ name: string, type: string, version: string, mode: Mode, results: Results }[]>}
 */
export async function publishedResults() {
  const index = /** @type {{ file: string, name: string, type: string, version: string }[]} */ ((await import(suiteUrl('results/index.mjs'))).default)
  return index.map((entry) => ({
    name: entry.name,
    type: entry.type,
    version: entry.version,
    mode: entry.type === 'browser' ? 'private' : 'shared',
    results: JSON.parse(readFileSync(join(SUITE_DIR, 'results', entry.file), 'utf8')),
  }))
}
