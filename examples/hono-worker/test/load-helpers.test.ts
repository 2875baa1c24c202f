// The arithmetic of scripts/load.mjs, on made-up requests.
import { describe, expect, it } from 'vitest'
import { batchAnswer, formatTable, joinedLoad, recovery, type PhaseResult } from '../scripts/load.mjs'

describe('recovery(hits, target)', () => {
  const requests = (from: number, to: number, hit: (ms: number) => boolean): [number, boolean][] =>
    Array.from({ length: (to - from) / 10 }, (_, i) => [from + i * 10, hit(from + i * 10)] as [number, boolean])

  it('is when every 50 requests in a row have the target hit rate from then on, and the hit rate from 5 s on', () => {
    // Misses until 2 s, hits after.
    const { recoveryMs, hitRateAfter5s } = recovery(requests(0, 8_000, (ms) => ms >= 2_000), 0.95)
    expect(recoveryMs).toBeGreaterThanOrEqual(1_600)
    expect(recoveryMs).toBeLessThanOrEqual(2_000)
    expect(hitRateAfter5s).toBe(1)
  })

  it('is undefined when the last requests are still below the target', () => {
    const { recoveryMs, hitRateAfter5s } = recovery(requests(0, 8_000, (ms) => ms < 6_000), 0.95)
    expect(recoveryMs).toBeUndefined()
    expect(hitRateAfter5s).toBeCloseTo(0.333, 2)
  })
})

describe('formatTable(phases)', () => {
  it('is a markdown table with a row per phase', () => {
    const phase: PhaseResult = {
      l2: 'upstash', fault: 'endpoint-500', stage: 'after', requests: 700, reached: 700, failed: 0, failedJoined: 0, partial: 0, cancellations: 0, crossContext: 0, oldWork: 0, slow: 0, slowSamples: [], p50: 12.4, p99: 340.6, p99Single: 300, p99Batch: 340.6,
      max: 400, hitRate: 0.987, dbQueries: 51, tierErrors: [0, 3], restarted: false, durationMs: 10_000, recoveryMs: 1_234, lateTierErrors: [0, 0], hitRateAfter5s: 1, statuses: { 200: 700 },
      cacheStatuses: {}, samples: [], misses: [],
    }
    const table = formatTable([phase]).split('\n')
    expect(table).toHaveLength(3)
    expect(table[2]).toBe('| upstash | endpoint-500 | after | 700 | 0 | 0 | 12 | 341 | 98.7% | 51 | 100.0% | 1.2 s |')
  })
})

describe('joinedLoad(cacheStatus)', () => {
  it("is true only for an answer whose Cache-Status has the parameter collapsed (its request joined another's load)", () => {
    expect(joinedLoad('edge; fwd=miss; collapsed')).toBe(true)
    expect(joinedLoad('edge; hit; collapsed; detail=L1')).toBe(true)
    expect(joinedLoad('edge; fwd=miss; detail=not-stored:error')).toBe(false)
    expect(joinedLoad('edge; fwd=miss; detail=collapsed-elsewhere')).toBe(false)
    expect(joinedLoad(undefined)).toBe(false)
  })
})

describe('batchAnswer(path, body)', () => {
  const path = '/api/products?ids=1,2'
  it('is ok when every id has its product or a cached "not found", partial when the rest are listed unavailable', () => {
    expect(batchAnswer(path, JSON.stringify({ products: [{ id: 1 }, { id: 2 }], loadedFromOrigin: [] }))).toBe('ok')
    expect(batchAnswer(path, JSON.stringify({ products: [{ id: 1 }, null] }))).toBe('ok')
    expect(batchAnswer(path, JSON.stringify({ products: [{ id: 1 }, null], unavailable: [2] }))).toBe('partial')
    expect(batchAnswer('/api/products?ids=2,2,1', JSON.stringify({ products: [null, null, { id: 1 }], unavailable: [2] }))).toBe('partial')
  })

  it('is undefined for anything else: wrong products, every id unavailable, not JSON', () => {
    expect(batchAnswer(path, JSON.stringify({ products: [{ id: 2 }, { id: 1 }] }))).toBeUndefined()
    expect(batchAnswer(path, JSON.stringify({ products: [{ id: 1 }] }))).toBeUndefined()
    expect(batchAnswer(path, JSON.stringify({ products: [null, null], unavailable: [1, 2] }))).toBeUndefined()
    expect(batchAnswer(path, JSON.stringify({ products: [{ id: 1 }, { id: 2 }], unavailable: [2] }))).toBeUndefined()
    expect(batchAnswer(path, '{"error":"database down"}')).toBeUndefined()
    expect(batchAnswer(path, 'Internal Server Error')).toBeUndefined()
  })
})
