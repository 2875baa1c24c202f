// Cache-Status (RFC 9211) of an answer the cache gave, from what core said about the read (ReadStatus).
import type { CacheStatus, ReadStatus } from '@tiercache/core'

/** Cache-Status of a cached answer, from what core said about it. */
export function statusOf(read: ReadStatus): CacheStatus {
  const tier = read.tier ?? -1
  let status: CacheStatus
  switch (read.state) {
    case 'loaded':
      status = read.stored === true ? { hit: false, fwd: 'miss', stored: true } : { hit: false, fwd: 'miss' }
      break
    case 'stale-if-error':
    case 'stale-on-timeout':
      status = { hit: true, detail: staleDetail(read.state === 'stale-if-error' ? 'error' : 'timeout', tier) }
      break
    default:
      status = tier < 0 ? { hit: true } : { hit: true, detail: `L${tier + 1}` }
  }
  if (read.collapsed === true) status.collapsed = true
  return status
}

/** `L2/stale-if-error`: which tier held the stale copy and why it answered (the tier is omitted when unknown). */
function staleDetail(because: 'error' | 'timeout', tierIndex: number): string {
  const why = because === 'error' ? 'stale-if-error' : 'stale-timeout'
  return tierIndex < 0 ? why : `L${tierIndex + 1}/${why}`
}
