/**
 * Page-side app for the *.driver.test.ts files: a cache (memory + IndexedDB, tag times in IndexedDB too),
 * broadcastInvalidation and createCachedFetch, driven through `page.evaluate(() => window.app.…)`. Query parameters pick the database,
 * channel and maxEntries, so each test gets its own storage. The clock can be moved forward (`advance`), so
 * lifetimes are tested without sleeping; test routes send no Date header for the same reason.
 */
import { createCache, memoryStore, namespacePrefix } from '@tiercache/core'
import { broadcastInvalidation, cacheUpdates, createCachedFetch, indexedDbCoordinator, indexedDbStore, type CacheUpdate, type FetchUpdate } from '../../../src/index.js'
import { responseInfo, type ResponseInfo } from './response-info.js'

const params = new URLSearchParams(location.search)
let offset = 0
const now = (): number => Date.now() + offset

const memory = memoryStore()
const dbName = params.get('db') ?? 'app'
const idb = indexedDbStore({ dbName, now, maxEntries: Number(params.get('maxEntries') ?? 5_000) })
export interface SeenEvent {
  type: string
  key: string
  tier?: string | undefined
  reason?: string | undefined
  code?: string | undefined
  /** The error's message: a failing test that asserts no 'error' events then says what failed. */
  message?: string | undefined
}
const events: SeenEvent[] = []
const cache = createCache({
  tiers: [memory, idb],
  coordinator: indexedDbCoordinator({ dbName, now }),
  now,
  policy: { ttl: '1m' },
  // Generous (core's default is 1 s): a 512 KiB IndexedDB write in a loaded Chromium on a shared CI machine can take
  // longer, which turns into an 'error' event (and a miss) that the tests assert absent. No test here is about a tier
  // timing out.
  tierTimeout: '30s',
  onEvent: (e) => events.push({ type: e.type, key: e.key, tier: e.tier, reason: e.reason, code: e.error?.code, message: e.error?.message }),
})
const channel = params.get('channel') ?? 'tiercache-test'
const sync = broadcastInvalidation(cache, { channel })
const updates = cacheUpdates(cache, { channel, now })
/** What the subscriptions of watch() / watchFetch() heard, in order. */
const heard: { key: string; value: unknown; changed: boolean; remote: boolean }[] = []
const cachedFetch = createCachedFetch({ cache, now })
/** A second cached fetch whose stored responses carry the tag 'catalog'. */
const taggedFetch = createCachedFetch({ cache, now, keyPrefix: 'tagged:', policy: { ttl: '1m', tags: ['catalog'] } })

const app = {
  set: (key: string, value: unknown, tags?: string[]) => cache.set(key, value, tags === undefined ? undefined : { ttl: '1m', tags }),
  get: (key: string) => cache.get(key),
  getOrSet: (key: string, value: unknown, tags?: string[]) => cache.getOrSet(key, () => value, tags === undefined ? undefined : { ttl: '1m', tags }),
  delete: (key: string) => cache.delete(key),
  invalidate: (tags: string[]) => cache.invalidateTags(tags),
  /** What this tab's memory tier holds (namespace-free keys), null for nothing. */
  memory: (key: string) => memory.peek(namespacePrefix(cache.namespace) + key)?.value ?? null,
  idbCount: () => idb.count(),
  idle: () => cache.idle(),
  advance: (ms: number) => {
    offset += ms
  },
  syncActive: () => sync.active,
  events: () => events.slice(),
  fetch: async (url: string, init?: RequestInit): Promise<ResponseInfo> => responseInfo(await cachedFetch(url, init)),
  taggedFetch: async (url: string): Promise<ResponseInfo> => responseInfo(await taggedFetch(url)),
  /**
   * Writes `count` values of `bytes` characters each through the cache; resolves with how many calls threw (must
   * be 0). Random characters: Chromium compresses IndexedDB values, and 'x'.repeat(n) would take no room at all.
   */
  async fill(prefix: string, count: number, bytes: number): Promise<number> {
    let failures = 0
    for (let i = 0; i < count; i++) {
      try {
        await cache.set(`${prefix}${i}`, randomText(bytes))
      } catch {
        failures++
      }
    }
    await cache.idle()
    return failures
  },
  /** Subscribes to a key's updates (recorded in heard()). */
  watch: (key: string) => {
    updates.onUpdate(key, (u: CacheUpdate) => heard.push({ key, value: u.value, changed: u.changed, remote: u.remote }))
  },
  /** Subscribes to a URL's updates; records the new body. */
  watchFetch: (url: string) => {
    updates.onFetchUpdate(url, (u: FetchUpdate) => {
      void u
        .response()
        .text()
        .then((body) => heard.push({ key: u.url, value: body, changed: u.changed, remote: u.remote }))
    })
  },
  heard: () => heard.slice(),
  /** getOrSet whose loader asks the server (JSON), for counting requests at the server across tabs. */
  loadFromServer: (key: string, url: string) => cache.getOrSet(key, async () => (await fetch(url, { cache: 'no-store' })).json() as Promise<unknown>),
  stats: () => cache.stats(),
  /** The Web Locks this origin's tabs hold and wait for, by name. */
  locks: async () => {
    const state = await navigator.locks.query()
    return { held: (state.held ?? []).map((l) => l.name ?? ''), pending: (state.pending ?? []).map((l) => l.name ?? '') }
  },
  estimate: () => navigator.storage.estimate().then(({ quota, usage }) => ({ quota: quota ?? 0, usage: usage ?? 0 })),
}

function randomText(length: number): string {
  const bytes = new Uint8Array(length)
  // getRandomValues gives at most 64 KiB per call.
  for (let at = 0; at < length; at += 65_536) crypto.getRandomValues(bytes.subarray(at, at + 65_536))
  let text = ''
  for (let at = 0; at < length; at += 8_192) text += String.fromCharCode(...bytes.subarray(at, at + 8_192).map((b) => 48 + (b % 64)))
  return text
}

export type App = typeof app

declare global {
  interface Window {
    app: App
    __ready?: boolean
  }
}

window.app = app
window.__ready = true
