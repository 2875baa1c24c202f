// Builds the usual "library | median | spread | ratio | target" rows from interleaved results.
import { summarize, fmtRange, fmtRatio } from './stats.mjs'

/**
 * @template S
 * @param {object} options
 * @param {S[]} options.subjects                  in table order
 * @param {Map<S, { samples: number[], error?: string }>} options.results
 * @param {S | undefined} options.baseline        ratios are median(subject) / median(baseline)
 * @param {(s: S) => string} options.label
 * @param {(n: number) => string} options.fmt     formats a sample value
 * @param {number} options.target                 highest ratio that meets the target
 * @param {(s: S) => string[]} [options.extra]    more cells appended after the ratio (before target)
 * @param {(s: S, ratio: number) => boolean} [options.meets]  overrides the ratio-only target test
 */
export function ratioRows({ subjects, results, baseline, label, fmt, target, extra, meets }) {
  const base = baseline === undefined ? undefined : results.get(baseline)
  const baseMedian = base && !base.error && base.samples.length ? summarize(base.samples).median : Number.NaN
  return subjects.map((subject) => {
    const result = results.get(subject)
    if (!result) return [label(subject), 'n/a', '', '', ...(extra ? extra(subject).map(() => '') : []), '']
    if (result.error || result.samples.length === 0) {
      const why = result.error ? `error: ${result.error}` : 'no samples'
      return [label(subject), why, '', '', ...(extra ? extra(subject).map(() => '') : []), 'no']
    }
    const s = summarize(result.samples)
    const ratio = s.median / baseMedian
    const isBaseline = subject === baseline
    const ok = meets ? meets(subject, ratio) : ratio <= target
    return [
      label(subject),
      fmt(s.median),
      fmtRange(s, fmt),
      isBaseline ? '1.00x (baseline)' : fmtRatio(ratio),
      ...(extra ? extra(subject) : []),
      isBaseline ? '—' : ok ? 'yes' : 'no',
    ]
  })
}

/**
 * A subject's median, its baseline's median and their ratio; undefined when either has no samples.
 * @template S
 * @param {Map<S, { samples: number[], error?: string }>} results
 * @param {S | undefined} subject
 * @param {S | undefined} baseline
 */
export function medianRatio(results, subject, baseline) {
  const of = (/** @type {S | undefined} */ s) => {
    const r = s === undefined ? undefined : results.get(s)
    return r && !r.error && r.samples.length ? summarize(r.samples).median : undefined
  }
  const median = of(subject)
  const baseMedian = of(baseline)
  if (median === undefined || baseMedian === undefined) return undefined
  return { median, baseMedian, ratio: median / baseMedian }
}
