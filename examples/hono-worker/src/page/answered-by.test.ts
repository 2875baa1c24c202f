import { describe, expect, it } from 'vitest'
import { answeredBy, parseCacheStatus } from './answered-by.js'

describe('parseCacheStatus', () => {
  it('reads members and their parameters', () => {
    expect(parseCacheStatus('edge; hit; ttl=8; detail=L1, browser; fwd=miss; stored; detail="network"')).toEqual([
      { name: 'edge', params: { hit: true, ttl: '8', detail: 'L1' } },
      { name: 'browser', params: { fwd: 'miss', stored: true, detail: 'network' } },
    ])
    expect(parseCacheStatus(null)).toEqual([])
  })
})

describe('answeredBy', () => {
  it('names the browser tier that hit', () => {
    expect(answeredBy(200, 'edge; fwd=miss; stored, browser; hit; ttl=7; detail=memory')).toEqual({ tier: 'memory', stale: false })
    expect(answeredBy(200, 'edge; hit; detail=L1, browser; hit; ttl=-2; detail=indexeddb')).toEqual({ tier: 'indexeddb', stale: 'swr' })
    expect(answeredBy(200, 'browser; fwd=stale; detail=stale-if-error')).toEqual({ tier: 'browser', stale: 'error' })
  })

  it('names the edge tier when the browser went to the network', () => {
    const browser = ', browser; fwd=miss; stored; detail=network'
    expect(answeredBy(200, `edge; hit; ttl=9; detail=L1${browser}`)).toEqual({ tier: 'edge-l1', stale: false })
    expect(answeredBy(200, `edge; hit; ttl=-4; detail=L2${browser}`)).toEqual({ tier: 'edge-l2', stale: 'swr' })
    expect(answeredBy(200, `edge; hit; ttl=-30; detail=L2/stale-if-error${browser}`)).toEqual({ tier: 'edge-l2', stale: 'error' })
    expect(answeredBy(200, `edge; hit; ttl=-30; detail=stale-if-error${browser}`)).toEqual({ tier: 'edge', stale: 'error' })
    expect(answeredBy(200, `edge; hit; collapsed${browser}`)).toEqual({ tier: 'edge', stale: false })
  })

  it('says origin when the edge forwarded the request, error when that failed', () => {
    expect(answeredBy(200, 'edge; fwd=miss; stored, browser; fwd=miss; detail=network')).toEqual({ tier: 'origin', stale: false })
    expect(answeredBy(404, 'edge; fwd=miss; stored')).toEqual({ tier: 'origin', stale: false })
    expect(answeredBy(503, 'edge; fwd=miss')).toEqual({ tier: 'error', stale: false })
    expect(answeredBy(200, null)).toEqual({ tier: 'origin', stale: false })
  })
})
