/**
 * `@tiercache/browser/react`: `useCache` and `useCachedFetch`, hooks that answer from the cache at once, tell where
 * the answer came from and whether it is stale, and re-render when a newer value is stored (a background refresh,
 * another tab) — never for a refresh that changed nothing. Suspense is optional.
 */
import type { Cache, Loader, Policy } from '@tiercache/core'
import { createContext, createElement, useContext, useEffect, useMemo, useRef, useState, type ReactElement, type ReactNode } from 'react'
import { typeOf } from '@tiercache/core/kit'
import { createCachedFetch } from './cached-fetch.js'
import { cacheUpdates, type CacheUpdates } from './updates.js'

/** Props of `CacheProvider`. */
export interface CacheProviderProps {
  /** The cache the hooks read. */
  cache: Cache
  /** The cached fetch `useCachedFetch` calls. @default createCachedFetch({ cache }) */
  fetch?: typeof fetch
  /** That fetch's `keyPrefix`, if not the default. @default 'fetch:' */
  keyPrefix?: string
  /** The notifications the hooks re-render on; give yours to share its channel. @default cacheUpdates(cache, { channel }) */
  updates?: CacheUpdates
  /** The BroadcastChannel of `broadcastInvalidation` (when `updates` is not given). @default 'tiercache' */
  channel?: string
  children?: ReactNode
}

/**
 * What the hooks return.
 * - `status`: `'loading'` until the first answer, then `'success'` or `'error'`.
 * - `tier`: who answered the value shown: a tier's name (`'memory'`, `'indexeddb'`), `'loader'` / `'network'` when
 *   it was loaded, `'update'` when it came from a notification (a background refresh here or in another tab).
 * - `isStale`: the value was served stale (within stale-while-revalidate; a refresh runs and will update it).
 */
export interface CacheResult<T> {
  data: T | undefined
  status: 'loading' | 'success' | 'error'
  error: unknown
  isStale: boolean
  tier: string | undefined
}

/** Options of the hooks. */
export interface HookOptions {
  /** Suspend (throw the pending read) until the first answer, for a `<Suspense>` boundary. @default false */
  suspense?: boolean
}

/** Options of `useCachedFetch`. */
export interface FetchHookOptions<T> extends HookOptions {
  /** How a response becomes `data`. @default (response) => response.json() */
  parse?: (response: Response) => Promise<T>
}

interface Context {
  cache: Cache
  fetch: typeof fetch
  keyPrefix: string | undefined
  updates: CacheUpdates
}

const CacheContext = createContext<Context | undefined>(undefined)

/**
 * Gives the hooks below it a cache (and a cached fetch). The notifications it creates are closed when it unmounts.
 *
 * @example
 * createRoot(root).render(createElement(CacheProvider, { cache }, createElement(App)))
 */
export function CacheProvider(props: CacheProviderProps): ReactElement {
  const { cache, channel, keyPrefix } = props
  if (typeof cache !== 'object' || cache === null || typeof cache.getOrSet !== 'function') {
    throw new TypeError(`CacheProvider's cache must be a cache from createCache(), got ${typeOf(cache)}`)
  }
  const given = props.updates
  const owned = useMemo(() => (given === undefined ? cacheUpdates(cache, channel === undefined ? {} : { channel }) : undefined), [cache, channel, given])
  useEffect(() => () => owned?.close(), [owned])
  const givenFetch = props.fetch
  const value = useMemo<Context>(
    () => ({ cache, fetch: givenFetch ?? createCachedFetch({ cache }), keyPrefix, updates: given ?? (owned as CacheUpdates) }),
    [cache, givenFetch, keyPrefix, given, owned],
  )
  return createElement(CacheContext.Provider, { value }, props.children)
}

function useCacheContext(hook: string): Context {
  const context = useContext(CacheContext)
  if (context === undefined) throw new Error(`${hook} must be used inside <CacheProvider cache={…}>`)
  return context
}

/** One answer, as a hook state. */
interface Answer<T> {
  data: T | undefined
  error: unknown
  status: CacheResult<T>['status']
  isStale: boolean
  tier: string | undefined
}

const LOADING: Answer<never> = { data: undefined, error: undefined, status: 'loading', isStale: false, tier: undefined }

/** Reads started for Suspense, by cache and key: the component that threw the promise finds its answer here. */
const suspended = new WeakMap<Cache, Map<string, { promise: Promise<void>; answer?: Answer<unknown> }>>()

/**
 * The shared machinery: subscribe to `watch` first (so nothing stored from then on is missed), then `read`. An update
 * that arrives while the read runs is usually the read's own load being stored: it is kept aside, and wins over the
 * read's answer only when it came from another tab or holds other data.
 */
function useAnswer<T>(
  context: Context,
  id: string | null,
  read: () => Promise<Answer<T>>,
  watch: (apply: (answer: Answer<T>, remote: boolean) => void) => () => void,
  suspense: boolean,
): CacheResult<T> {
  const pending = id === null ? undefined : suspended.get(context.cache)?.get(id)
  const [state, setState] = useState<{ id: string | null; answer: Answer<T> }>(() => ({ id, answer: (pending?.answer as Answer<T> | undefined) ?? LOADING }))
  const readRef = useRef(read)
  readRef.current = read
  const watchRef = useRef(watch)
  watchRef.current = watch

  useEffect(() => {
    if (id === null) return undefined
    let active = true
    let reading = true
    /** An update heard while the read ran. */
    let heard: { answer: Answer<T>; remote: boolean } | undefined
    const stop = watchRef.current((answer, remote) => {
      if (!active) return
      if (reading) heard = { answer, remote }
      else setState({ id, answer })
    })
    const settle = (answer: Answer<T>): void => {
      reading = false
      if (!active) return
      const newer = heard !== undefined && (heard.remote || answer.status !== 'success' || !sameData(heard.answer.data, answer.data))
      setState({ id, answer: newer ? (heard as { answer: Answer<T> }).answer : answer })
    }
    const taken = suspended.get(context.cache)?.get(id)?.answer as Answer<T> | undefined
    if (taken !== undefined) {
      reading = false
      suspended.get(context.cache)?.delete(id)
      setState((current) => (current.id === id && current.answer === taken ? current : { id, answer: taken }))
    } else {
      readRef.current().then(settle, (error: unknown) => settle({ data: undefined, error, status: 'error', isStale: false, tier: undefined }))
    }
    return () => {
      active = false
      stop()
    }
  }, [context, id])

  const answer = state.id === id ? state.answer : (LOADING as Answer<T>)
  if (suspense && id !== null && answer.status === 'loading') {
    let byKey = suspended.get(context.cache)
    if (byKey === undefined) suspended.set(context.cache, (byKey = new Map()))
    const entry = byKey.get(id)
    if (entry?.answer !== undefined) return result(entry.answer as Answer<T>)
    if (entry !== undefined) throw entry.promise
    const slot: { promise: Promise<void>; answer?: Answer<unknown> } = { promise: Promise.resolve() }
    slot.promise = read().then(
      (done) => {
        slot.answer = done
      },
      (error: unknown) => {
        slot.answer = { data: undefined, error, status: 'error', isStale: false, tier: undefined }
      },
    )
    byKey.set(id, slot)
    throw slot.promise
  }
  return result(answer)
}

function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true
  try {
    return JSON.stringify(a) === JSON.stringify(b)
  } catch {
    return false
  }
}

function result<T>(answer: Answer<T>): CacheResult<T> {
  return { data: answer.data, status: answer.status, error: answer.error, isStale: answer.isStale, tier: answer.tier }
}

/**
 * `cache.getOrSet(key, loader, policy)` as a hook: the cached value at once (with the tier that had it and whether it
 * is stale), the loader's when nothing is cached, and the new value whenever one is stored for the key — by the
 * background refresh a stale answer started, by a `set`, or by another tab. A refresh that stored the same value
 * does not re-render. `key` null: nothing is read (`status` stays 'loading'). The loader and policy of the latest
 * render are used; a new key reads again.
 *
 * @example
 * function User({ id }: { id: string }) {
 *   const { data, isStale } = useCache(`user:${id}`, () => api.user(id), { ttl: '1m', swr: '1h' })
 *   return createElement('p', { className: isStale ? 'stale' : '' }, data?.name)
 * }
 */
export function useCache<V>(key: string | null, loader: Loader<V>, policy?: Partial<Policy>, options: HookOptions = {}): CacheResult<V | null> {
  const context = useCacheContext('useCache')
  if (key !== null && (typeof key !== 'string' || key.length === 0)) throw new TypeError(`key must be a non-empty string or null, got ${typeOf(key)}`)
  const { cache, updates } = context
  return useAnswer<V | null>(
    context,
    key === null ? null : `k:${key}`,
    () => readProvenance(cache, key as string, loader, policy),
    (apply) =>
      updates.onUpdate<V>(key as string, (update) => apply({ data: update.value, error: undefined, status: 'success', isStale: false, tier: 'update' }, update.remote)),
    options.suspense === true,
  )
}

/**
 * A `GET` through the provider's cached fetch, parsed (JSON by default): `tier` and `isStale` from the response's
 * `Cache-Status`, and the new body whenever a revalidation (here or in another tab) stored a different one. `url`
 * null: nothing is fetched. `init` of the latest render is used; a new URL fetches again.
 *
 * @example
 * function Products() {
 *   const { data, status } = useCachedFetch<Product[]>('/api/products')
 *   return status === 'success' ? createElement('ul', null, data?.map((p) => createElement('li', { key: p.id }, p.name))) : null
 * }
 */
export function useCachedFetch<T = unknown>(url: string | URL | null, init?: RequestInit, options: FetchHookOptions<T> = {}): CacheResult<T> {
  const context = useCacheContext('useCachedFetch')
  const parse = options.parse ?? ((response: Response) => response.json() as Promise<T>)
  const href = url === null ? null : String(url)
  return useAnswer<T>(
    context,
    href === null ? null : `f:${href}`,
    async () => {
      const response = await context.fetch(href as string, init)
      if (!response.ok) throw new Error(`GET ${href} answered ${response.status}`)
      const { tier, isStale } = fromCacheStatus(response.headers.get('cache-status'))
      return { data: await parse(response), error: undefined, status: 'success', isStale, tier }
    },
    (apply) =>
      context.updates.onFetchUpdate(
        href as string,
        (update) => {
          if (update.status < 200 || update.status > 299) return
          parse(update.response()).then(
            (data) => apply({ data, error: undefined, status: 'success', isStale: false, tier: 'update' }, update.remote),
            () => undefined,
          )
        },
        context.keyPrefix === undefined ? {} : { keyPrefix: context.keyPrefix },
      ),
    options.suspense === true,
  )
}

/** getOrSet, noting from the cache's events of this key which tier answered and whether the answer was stale. */
async function readProvenance<V>(cache: Cache, key: string, loader: Loader<V>, policy: Partial<Policy> | undefined): Promise<Answer<V | null>> {
  let tier: string | undefined
  let isStale = false
  const stop = cache.subscribe((event) => {
    if (event.key !== key) return
    if (event.type === 'hit' || event.type === 'stale') {
      tier = event.tier
      isStale = event.type === 'stale'
    } else if (event.type === 'load' && !event.background && tier === undefined) tier = 'loader'
  })
  try {
    const data = await cache.getOrSet(key, loader, policy)
    return { data, error: undefined, status: 'success', isStale, tier: tier ?? 'loader' }
  } finally {
    stop()
  }
}

/** The last member of Cache-Status (ours is appended last): a hit names its tier in `detail`, a forward is the network. */
function fromCacheStatus(header: string | null): { tier: string | undefined; isStale: boolean } {
  const member = header?.split(',').pop()?.trim()
  if (member === undefined) return { tier: undefined, isStale: false }
  const params = member.split(';').map((part) => part.trim())
  const detail = params.find((p) => p.startsWith('detail='))?.slice(7)
  // A stored response standing in for a failing origin (stale-if-error) is stale; any other forward is the network's.
  if (!params.includes('hit')) return detail === 'stale-if-error' ? { tier: detail, isStale: true } : { tier: 'network', isStale: false }
  const ttl = Number(params.find((p) => p.startsWith('ttl='))?.slice(4))
  return { tier: detail, isStale: ttl < 0 }
}
