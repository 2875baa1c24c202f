// packages/browser/README.md, "React": hooks on the same cache (this page shows them above the products).
import { useCache, useCachedFetch } from '@tiercache/browser/react'

/** `/api/notice` through the cached fetch: the tier that answered, and the new text when a revalidation brings one. */
export function Notice() {
  const { data, status, isStale, tier } = useCachedFetch<{ text: string }>('/api/notice')
  if (status !== 'success') return <p id="notice">{status}</p>
  return (
    <p id="notice" className={isStale ? 'stale' : 'fresh'}>
      {data?.text} ({tier})
    </p>
  )
}

/** Any async value through cache.getOrSet, with the same provenance. */
export function Greeting({ name }: { name: string }) {
  const { data, tier } = useCache(`greeting:${name}`, async () => `Hello, ${name}`, { ttl: '1h' })
  return (
    <h2 id="greeting">
      {data} ({tier})
    </h2>
  )
}
