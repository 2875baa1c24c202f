// Counting and reporting: per-suite pass counts of a run beside the published results, and CONFORMANCE.md.
import { determineTestResult, loadSuites, publishedResults } from './suite.mjs'
import { NOTES, REASONS } from './reasons.mjs'

/**
 * @typedef {import('./suite.mjs').Suite} Suite
 * @typedef {import('./suite.mjs').Results} Results
 * @typedef {import('./suite.mjs').Mode} Mode
 * @typedef {{ target: Mode, describe: string, ms: number, results: Results }} Run
 * @typedef {{ id: string, name: string, total: number, counts: number[] }} SuiteRow
 * @typedef {{ id: string, name: string, kind: string, suite: string, verdict: string, message: string, passedBy: string[] }} Miss
 * @typedef {{ mode: Mode, columns: string[], rows: SuiteRow[], totals: number[], total: number, pass: number, required: { total: number, pass: number }, passing: string[], misses: Miss[] }} Tally
 */

/** The verdict symbol of determineTestResult for a pass ('✅'). */
const PASS = '✅'

/**
 * Pass counts of the required and optimal tests (the suite's 'check' tests report behaviour, not conformance),
 * classified by the suite's own determineTestResult: a test passes only when every test it depends on passes.
 * @param {Run} run
 * @returns {Promise<Tally>}
 */
export async function tally(run) {
  const mode = run.target
  const suites = await loadSuites(mode)
  const classify = await determineTestResult()
  const published = (await publishedResults()).filter((p) => p.mode === mode)
  const sources = [run.results, ...published.map((p) => p.results)]
  /** @type {SuiteRow[]} */
  const rows = []
  /** @type {Miss[]} */
  const misses = []
  /** @type {string[]} */
  const passing = []
  let requiredTotal = 0
  let requiredPass = 0
  for (const suite of suites) {
    const row = { id: suite.id, name: suite.name, total: 0, counts: sources.map(() => 0) }
    for (const test of suite.tests) {
      const kind = test.kind ?? 'required'
      if (kind === 'check') continue
      row.total++
      const verdicts = sources.map((results) => classify(suites, test.id, results)[2])
      verdicts.forEach((verdict, i) => {
        if (verdict === PASS) row.counts[i] = /** @type {number} */ (row.counts[i]) + 1
      })
      if (kind === 'required') {
        requiredTotal++
        if (verdicts[0] === PASS) requiredPass++
      }
      if (verdicts[0] === PASS) passing.push(test.id)
      else {
        const result = run.results[test.id]
        misses.push({
          id: test.id,
          name: test.name,
          kind,
          suite: suite.id,
          verdict: /** @type {string} */ (verdicts[0]),
          message: Array.isArray(result) ? result[1] : result === undefined ? 'not run' : '',
          passedBy: published.filter((_, i) => verdicts[i + 1] === PASS).map((p) => p.name),
        })
      }
    }
    if (row.total > 0) rows.push(row)
  }
  const totals = sources.map((_, i) => rows.reduce((sum, row) => sum + /** @type {number} */ (row.counts[i]), 0))
  return {
    mode,
    columns: ['tiercache', ...published.map((p) => `${p.name} ${p.version}`)],
    rows,
    totals,
    total: rows.reduce((sum, row) => sum + row.total, 0),
    pass: /** @type {number} */ (totals[0]),
    required: { total: requiredTotal, pass: requiredPass },
    passing: passing.sort(),
    misses,
  }
}

/**
 * The per-suite table as text for the terminal.
 * @param {Tally} t
 */
export function textTable(t) {
  const names = t.columns.map((c) => c.split(' ')[0] ?? c)
  const width = Math.max(...t.rows.map((r) => r.name.length), 5)
  const line = (/** @type {string} */ label, /** @type {(string | number)[]} */ cells) =>
    `${label.padEnd(width)} ${cells.map((c, i) => String(c).padStart(Math.max(String(names[i - 1] ?? '').length, 5))).join(' ')}`
  const out = [line('suite', ['tests', ...names])]
  for (const row of t.rows) out.push(line(row.name, [row.total, ...row.counts]))
  out.push(line('total', [t.total, ...t.totals]))
  return out.join('\n')
}

/** @param {string} text */
const cell = (text) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

/**
 * @param {Tally} t
 * @param {Run} run
 */
function markdownSection(t, run) {
  const out = []
  out.push(`Subject: ${run.describe}.`, '')
  out.push(
    `**${t.pass} of ${t.total}** required and optimal tests pass (required: ${t.required.pass} of ${t.required.total}); ` +
      `published: ${t.columns.slice(1).map((c, i) => `${c.split(' ')[0]} ${t.totals[i + 1]}`).join(', ')}.`,
    '',
  )
  out.push(`| suite | tests | ${t.columns.map((c) => cell(c)).join(' | ')} |`)
  out.push(`|---|--:|${t.columns.map(() => '--:').join('|')}|`)
  for (const row of t.rows) out.push(`| ${cell(row.name)} | ${row.total} | ${row.counts.join(' | ')} |`)
  out.push(`| **total** | ${t.total} | ${t.totals.map((n, i) => (i === 0 ? `**${n}**` : String(n))).join(' | ')} |`, '')
  const beaten = t.misses.filter((m) => m.kind === 'required' && m.passedBy.length > 0)
  out.push(
    `Required tests failed here that a published ${t.mode === 'private' ? 'browser' : 'cache'} passes: ${beaten.length === 0 ? 'none' : beaten.map((m) => `\`${m.id}\``).join(', ')}.`,
    '',
  )
  if (NOTES[t.mode] !== undefined) out.push(NOTES[t.mode] ?? '', '')
  const onPurpose = t.misses.filter((m) => REASONS[t.mode][m.id] !== undefined)
  const open = t.misses.filter((m) => REASONS[t.mode][m.id] === undefined)
  out.push(`#### Failed on purpose (${onPurpose.length})`, '')
  if (onPurpose.length === 0) out.push('None.', '')
  else {
    out.push('| test | kind | passed by | why |', '|---|---|---|---|')
    for (const m of onPurpose) out.push(`| \`${m.id}\` | ${m.kind} | ${m.passedBy.join(', ') || '-'} | ${cell(REASONS[t.mode][m.id] ?? '')} |`)
    out.push('')
  }
  out.push(`#### Not passing yet (${open.length})`, '')
  if (open.length === 0) out.push('None.', '')
  else {
    out.push('| test | kind | passed by | result |', '|---|---|---|---|')
    for (const m of open) out.push(`| \`${m.id}\` | ${m.kind} | ${m.passedBy.join(', ') || '-'} | ${m.verdict} ${cell(m.message)} |`)
    out.push('')
  }
  return out.join('\n')
}

/**
 * CONFORMANCE.md.
 * @param {{ versions: Record<string, string>, command: string, sections: { title: string, tally: Tally, run: Run }[] }} input
 */
export function markdown({ versions, command, sections }) {
  const out = [
    '# HTTP cache conformance',
    '',
    'tiercache against the public HTTP cache test suite (the suite behind cache-tests.fyi, npm `http-cache-tests`), ' +
      'beside the results of browsers and shared caches that the suite publishes in its package (`results/*.json`).',
    '',
    '## Method',
    '',
    `- Command: \`${command}\` (\`npm test\` runs the same harness as a check: it fails when a pass count falls below \`tools/conformance/floor.json\`).`,
    `- Versions: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    "- The suite's own test server, client runner and classifier (`determineTestResult`, which fails a test when a test it depends on fails) are used unchanged. " +
      'The server runs in its own process bound to 127.0.0.1 (a preloaded module gives its host-less `listen(port)` the loopback host); every target is on loopback.',
    "- Private cache: the suite's client in browser-cache mode (as in a browser: `browser_only` tests included, `browser_skip` ones left out) calls createCachedFetch, which reaches the server through undici 7's fetch.",
    "- Shared cache: the suite's client in proxy mode (Surrogate-Control suite added, `browser_only` tests left out) sends its requests to a Worker in workerd (miniflare) that is withCache in front of the suite's server.",
    "- Counted: required and optimal tests (the suite's `check` tests describe behaviour without a right answer). The published columns are counted the same way from the package's result files. Each test waits at most once, 3 s (the suite's own pause): the tests of a target run concurrently.",
    '',
  ]
  for (const { title, tally: t, run } of sections) out.push(`## ${title}`, '', markdownSection(t, run))
  return `${out.join('\n').trimEnd()}\n`
}
