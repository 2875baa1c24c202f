// Small statistics and formatting helpers shared by every scenario.

/**
 * Quantile by linear interpolation between closest ranks (q in 0..1).
 * @param {number[]} values
 * @param {number} q
 * @returns {number}
 */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const pos = (sorted.length - 1) * q
  const lo = /** @type {number} */ (sorted[Math.floor(pos)])
  const hi = /** @type {number} */ (sorted[Math.ceil(pos)])
  return lo + (hi - lo) * (pos - Math.floor(pos))
}

/** @param {number[]} values */
export const median = (values) => quantile(values, 0.5)

/**
 * Summary of one library's samples across rounds.
 * @param {number[]} samples
 */
export function summarize(samples) {
  return {
    n: samples.length,
    median: median(samples),
    min: Math.min(...samples),
    max: Math.max(...samples),
    p25: quantile(samples, 0.25),
    p75: quantile(samples, 0.75),
  }
}

/**
 * Format a number with a fixed count of significant-ish digits, thousands separated.
 * @param {number} n
 */
export function fmtNum(n) {
  if (!Number.isFinite(n)) return String(n)
  const abs = Math.abs(n)
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** @param {number} n */
export function fmtInt(n) {
  return Math.round(n).toLocaleString('en-US')
}

/** @param {number} ns */
export function fmtNs(ns) {
  return `${fmtNum(ns)} ns`
}

/** @param {number} ms */
export function fmtMs(ms) {
  return `${fmtNum(ms)} ms`
}

/** @param {number} bytes */
export function fmtBytes(bytes) {
  if (bytes >= 1024 * 1024) return `${fmtNum(bytes / 1024 / 1024)} MiB`
  if (bytes >= 1024) return `${fmtNum(bytes / 1024)} KiB`
  return `${fmtNum(bytes)} B`
}

/** @param {number} r */
export function fmtRatio(r) {
  if (!Number.isFinite(r)) return 'n/a'
  return `${r.toFixed(2)}x`
}

/**
 * "min..max" spread with a formatter.
 * @param {{ min: number, max: number }} s
 * @param {(n: number) => string} fmt
 */
export function fmtRange(s, fmt) {
  return `${fmt(s.min)} .. ${fmt(s.max)}`
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Run the collector if the process was started with --expose-gc. */
export function collect() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc()
    globalThis.gc()
  }
}
