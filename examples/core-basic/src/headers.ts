import { cacheControl, cacheHeaders, type Policy } from '@tiercache/core'
import { createEntry, resolvePolicy } from '@tiercache/core/store'

const policy: Policy = { ttl: '5m', swr: '1m', staleIfError: '1d' }

// One policy, the same lifetimes for the browser and the CDN:
cacheControl(policy) // 'public, max-age=300, stale-while-revalidate=60, stale-if-error=86400'
cacheControl(policy, { scope: 'private' }) // 'private, max-age=300, stale-while-revalidate=60, stale-if-error=86400'
cacheControl({ ttl: '1h' }, { browserTtl: '1m' }) // 'public, max-age=60, s-maxage=3600'

// For a response built from a cached entry: its own lifetime plus Age, and RFC 9211 Cache-Status.
const createdAt = Date.now() - 42_000
const entry = createEntry({ id: 1 }, resolvePolicy(policy, undefined, 'policy', ''), createdAt, 30, Math.random)
export const headers = cacheHeaders(entry, { cdn: true, status: { hit: true, detail: 'L1' } })
// { 'Cache-Control': 'public, max-age=300, ...', 'CDN-Cache-Control': 'max-age=300, ...',
//   Age: '42', 'Cache-Status': 'tiercache; hit; ttl=258; detail=L1' }
export { policy }
