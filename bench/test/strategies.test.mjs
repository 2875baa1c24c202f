// The strategies scenario's count tables must say what they claim: these counts come from an injected clock and
// fixed seeds, so they are the same on every machine.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import strategies from '../src/scenarios/strategies.mjs'

const tables = /** @type {import('../src/report.mjs').Table[]} */ (await strategies.run({ quick: true, log: () => {} }))
/** @param {string} start */
const table = (start) => {
  const found = tables.find((t) => t.title.startsWith(start))
  assert.ok(found, `a table titled ${start}...`)
  return found
}
/** @param {string} cell */
const num = (cell) => Number(cell.replace(/,/g, '').split(' ')[0])

test('refresh-ahead: only the first read of the hot key waits, none is answered stale, cold keys load as often as without', () => {
  const [ttl, swr, ahead] = table('Refresh-ahead').rows
  assert.ok(ttl && swr && ahead)
  assert.equal(num(ttl[2] ?? ''), 60) // one reader waits per expiry
  assert.equal(num(swr[3] ?? ''), 59) // swr: no wait, but stale answers
  assert.equal(num(ahead[2] ?? ''), 1)
  assert.equal(num(ahead[3] ?? ''), 0)
  assert.equal(ahead[6], ttl[6])
})

test('sliding: sessions in use end only at maxAge, with far fewer writes than reads, batched', () => {
  const [plain, sliding] = table('Sliding expiry').rows
  assert.ok(plain && sliding)
  assert.equal(num(plain[2] ?? ''), 1_200) // 200 sessions x 6 half-hours
  assert.equal(num(sliding[2] ?? ''), 400) // 200 at start, 200 at the 2 h cap
  assert.ok(num(sliding[5] ?? '') <= 334) // at most one touch per key per 3 min of once-a-minute reads
  assert.ok(num(sliding[4] ?? '') < num(sliding[3] ?? '') / 10) // one setMany per turn, not one call per entry
})

test('write-behind: batches of at most maxBatch, several writes of a key in a batch coalesced', () => {
  for (const row of table('Write-behind').rows) {
    const maxBatch = Number(/maxBatch (\d+)/.exec(row[0] ?? '')?.[1])
    assert.ok(num(row[3] ?? '') >= num(row[1] ?? '') / maxBatch)
    assert.ok(num(row[4] ?? '') < num(row[1] ?? ''))
  }
})

test('warming: fresh keys skipped, never more loads at once than the concurrency', () => {
  const [skip, paced] = table('Warming').rows
  assert.ok(skip && paced)
  assert.equal(num(skip[1] ?? ''), 1_500)
  assert.equal(num(skip[2] ?? ''), 500)
  assert.ok(num(skip[3] ?? '') <= 8)
  assert.ok(num(paced[4] ?? '') >= 350) // 200 calls at 500 a second cannot take less than ~400 ms
})

test('hot keys: the true top 100 of a Zipf stream are listed', () => {
  const top100 = table('Hot keys').rows.find((row) => row[0] === 'top 100')
  assert.equal(top100?.[1], '100.0%')
})
