import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compileLoop, interleave, must } from '../src/harness.mjs'
import { renderConsole, renderMarkdown } from '../src/report.mjs'
import { quantile, median, summarize } from '../src/stats.mjs'

test('quantile interpolates between closest ranks', () => {
  assert.equal(median([3, 1, 2]), 2)
  assert.equal(median([4, 1, 2, 3]), 2.5)
  assert.equal(quantile([0, 10], 0.25), 2.5)
  assert.deepEqual(summarize([5, 1, 3]), { n: 3, median: 3, min: 1, max: 5, p25: 2, p75: 4 })
})

test('interleave rotates the order every round and drops a failing subject', async () => {
  /** @type {string[]} */
  const order = []
  const results = await interleave({
    subjects: ['a', 'b', 'c'],
    rounds: 3,
    warmupRounds: 0,
    label: (s) => s,
    async slice(s, round) {
      order.push(s)
      if (s === 'c' && round === 1) throw new Error('boom')
      return round
    },
  })
  assert.deepEqual(order, ['a', 'b', 'c', 'b', 'c', 'a', 'c', 'a', 'b'].filter((s, i) => !(s === 'c' && i === 6)))
  assert.deepEqual(must(results, 'a').samples, [0, 1, 2])
  assert.equal(must(results, 'c').error, 'boom')
  assert.deepEqual(must(results, 'c').samples, [0])
})

test('compiled loop counts values that do not belong to their key', async () => {
  const loop = compileLoop('test')
  const good = await loop(async (k) => ({ k }), ['x', 'y'], 10)
  const bad = await loop(async (k) => (k === 'y' ? { k: 'x' } : { k }), ['x', 'y'], 10)
  assert.equal(good, 0)
  assert.equal(bad, 5)
})

test('tables render aligned text and escaped markdown', () => {
  const table = { title: 'T', columns: ['lib', 'value'], rows: [['a|b', '1']], notes: ['n'] }
  assert.match(renderConsole(table), /== T\nlib  value\n---  -----\na\|b  1\n  \* n/)
  assert.match(renderMarkdown(table), /\| a\\\|b \| 1 \|/)
})
