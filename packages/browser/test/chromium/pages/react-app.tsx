/**
 * A React page on @tiercache/browser/react: useCachedFetch of `/api/news?id=…` (ETag, fresh 60 s, then
 * stale-while-revalidate) and useCache of a key, each counting its renders. The page clock moves forward (`advance`)
 * so that responses go stale without waiting; `fetch` revalidates through the same cached fetch, as another part
 * of the app would.
 */
import { createCache, memoryStore } from '@tiercache/core'
import { Suspense } from 'react'
import { createRoot } from 'react-dom/client'
import { broadcastInvalidation, createCachedFetch, indexedDbCoordinator, indexedDbStore } from '../../../src/index.js'
import { CacheProvider, useCache, useCachedFetch } from '../../../src/react.js'

const params = new URLSearchParams(location.search)
const dbName = params.get('db') ?? 'react'
const news = params.get('news') ?? 'n'
let offset = 0
const now = (): number => Date.now() + offset
const cache = createCache({
  tiers: [memoryStore(), indexedDbStore({ dbName, now })],
  coordinator: indexedDbCoordinator({ dbName, now }),
  now,
  policy: { ttl: '1m', swr: '1h' },
  // Generous (core's default is 1 s): an IndexedDB read or write in a loaded Chromium on a shared CI machine can take
  // longer, which turns into an 'error' event and a miss that changes what the tests count. No test here is about a tier
  // timing out.
  tierTimeout: '30s',
})
broadcastInvalidation(cache, { channel: dbName, now })
const cachedFetch = createCachedFetch({ cache, now })

const renders = { news: 0, user: 0 }
const seen: { news: unknown[]; user: unknown[] } = { news: [], user: [] }
let userVersion = 1

function News() {
  const { data, status, tier, isStale } = useCachedFetch<{ id: string; version: number }>(`/api/news?id=${news}`)
  renders.news++
  seen.news.push({ status, version: data?.version, tier, isStale })
  return <p id="news">{status === 'success' ? `news v${data?.version} from ${tier}` : status}</p>
}

function User() {
  const { data, status, tier, isStale } = useCache('user', () => ({ name: 'Ada', version: userVersion }))
  renders.user++
  seen.user.push({ status, version: data?.version, tier, isStale })
  return <p id="user">{status === 'success' ? `${data?.name} v${data?.version}` : status}</p>
}

let fallbacks = 0
function Fallback() {
  fallbacks++
  return <p id="suspended">waiting</p>
}

/** Suspends until its first answer (the loader takes a while): the fallback shows meanwhile. */
function SuspendedUser() {
  const { data, tier } = useCache(
    'suspended-user',
    () => new Promise<{ name: string }>((resolve) => setTimeout(() => resolve({ name: 'Grace' }), 50)),
    undefined,
    { suspense: true },
  )
  return <p id="suspended">{`${data?.name} from ${tier}`}</p>
}

const reactApp = {
  renders: () => ({ ...renders }),
  /** How often the Suspense fallback rendered. */
  fallbacks: () => fallbacks,
  seen: () => structuredClone(seen),
  text: (id: string) => document.getElementById(id)?.textContent ?? null,
  advance: (ms: number) => {
    offset += ms
  },
  /** The same cached fetch the hook uses, from outside React. */
  fetch: async (url: string, init?: RequestInit) => (await cachedFetch(url, init)).text(),
  /** The next user load answers this version. */
  setUserVersion: (version: number) => {
    userVersion = version
  },
  /** A getOrSet from outside React (stale within swr: answered, refreshed in the background). */
  getUser: () => cache.getOrSet('user', () => ({ name: 'Ada', version: userVersion })),
  idle: () => cache.idle(),
}

declare global {
  interface Window {
    reactApp: typeof reactApp
  }
}
window.reactApp = reactApp
const root = document.createElement('div')
document.body.append(root)
createRoot(root).render(
  <CacheProvider cache={cache} fetch={cachedFetch} channel={dbName}>
    <News />
    <User />
    <Suspense fallback={<Fallback />}>
      <SuspendedUser />
    </Suspense>
  </CacheProvider>,
)
window.__ready = true
