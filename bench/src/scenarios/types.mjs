// Shape of a scenario module. Types only (JSDoc); nothing runs here.

/**
 * @typedef {object} RunContext
 * @property {boolean} quick                 short run (about a minute for everything)
 * @property {(line: string) => void} log    progress lines (stderr), not part of the report
 */

/**
 * A scenario module's default export. `run` returns one table or several; each is printed and
 * written to BENCHMARKS.md in order. A scenario that cannot run on this machine should return a
 * table that says why rather than throw.
 * @typedef {object} Scenario
 * @property {string} name                   id used by `--only`
 * @property {(ctx: RunContext) => Promise<import('../report.mjs').Table | import('../report.mjs').Table[]>} run
 */

export {}
