// The members of http-cache-semantics 4.2 the header tests (core, edge) use as an independent RFC 9111 judge; one
// copy for every package, included by their test tsconfigs (@types/http-cache-semantics 4.2 lacks useStaleWhileRevalidate).
declare module 'http-cache-semantics' {
  interface CachePolicyRequest {
    url: string
    method?: string
    headers: Record<string, string>
  }
  interface CachePolicyResponse {
    status?: number
    headers: Record<string, string>
  }
  class CachePolicy {
    constructor(req: CachePolicyRequest, res: CachePolicyResponse, options?: { shared?: boolean })
    now(): number
    storable(): boolean
    maxAge(): number
    age(): number
    stale(): boolean
    timeToLive(): number
    useStaleWhileRevalidate(): boolean
  }
  export default CachePolicy
}
