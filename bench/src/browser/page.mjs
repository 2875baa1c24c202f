// The page of the browser scenario, bundled by esbuild (scenarios/browser.mjs) and run in Chromium. Every timing
// loop runs here, timed with performance.now(); Node only picks the contender and the round (page.evaluate) and
// gets the per-operation latencies back. The page is cross-origin isolated (COOP + COEP from the server), which
// gives performance.now() 5 µs resolution instead of 100 µs.
import { createCachedFetch, indexedDbStore } from '@tiercache/browser'
import { createCache, memoryStore } from '@tiercache/core'
import { createStore, get, getMany } from 'idb-keyval'

const DB = 'tiercache-bench'
const FETCH_DB = 'tiercache-bench-fetch'
const ENTRIES = 1_000
const MANY = 100
const URLS = 50

const keys = Array.from({ length: ENTRIES }, (_, i) => `item:${i}`)
const urls = Array.from({ length: URLS }, (_, i) => `/api/item?id=${i}`)
/** Rotating cursor per contender, so each reads every key in turn. */
const cursors = new Map()
const nextIndex = (/** @type {string} */ kind, /** @type {number} */ size) => {
  const i = cursors.get(kind) ?? 0
  cursors.set(kind, i + 1)
  return i % size
}

/** @typedef {{ id: number, name: string, price: number, tags: string[], description: string }} Item */

/** The value an API would return: about 250 bytes as JSON. */
function valueOf(/** @type {number} */ i) {
  return {
    id: i,
    name: `item ${i}`,
    price: 1000 + i,
    tags: ['bench', 'browser', 'idb'],
    description: 'A fixed document of a few hundred bytes, as a small API answer would be.',
  }
}

/** @type {import('@tiercache/browser').IndexedDbStore} */
let store
/**
 * A second store on the same database whose access-time writes never come during the run (a diagnostic: it
 * shows what those writes cost the reads measured with `store`).
 * @type {ReturnType<typeof indexedDbStore>}
 */
let deferred
/** @type {import('idb-keyval').UseStore} */
let raw
/** @type {import('idb-keyval').UseStore} */
let rawFetch
/** @type {import('@tiercache/browser').IndexedDbStore} */
let fetchStore
/** @type {typeof fetch} */
let memoryFetch

/**
 * The id of the item a core entry holds.
 * @param {{ value: unknown } | undefined} entry
 */
const idOf = (entry) => /** @type {Item | undefined} */ (entry?.value)?.id

/** Cache-Status of a response, or a readable reason it has none. */
const statusOf = (/** @type {Response} */ res) => res.headers.get('cache-status') ?? '(no Cache-Status)'

/**
 * One operation of each contender. Each returns normally only when the result is what it should be
 * (the value of that key, the body of that URL, the tier named in Cache-Status).
 * @type {Record<string, () => Promise<void>>}
 */
const operations = {
  async 'idb-keyval get'() {
    const i = nextIndex('raw-get', ENTRIES)
    const record = await get(keys[i], raw)
    if (record === undefined) throw new Error(`idb-keyval get: ${keys[i]} missing`)
  },
  async 'indexedDbStore get'() {
    const i = nextIndex('tc-get', ENTRIES)
    const entry = await store.get(keys[i])
    if (idOf(entry) !== i) throw new Error(`indexedDbStore get: ${keys[i]} came back as ${JSON.stringify(entry)}`)
  },
  async 'indexedDbStore get, access-time writes deferred'() {
    const i = nextIndex('deferred-get', ENTRIES)
    const entry = await deferred.get(keys[i])
    if (idOf(entry) !== i) throw new Error(`indexedDbStore get: ${keys[i]} came back as ${JSON.stringify(entry)}`)
  },
  async 'idb-keyval getMany'() {
    const start = nextIndex('raw-many', ENTRIES / MANY) * MANY
    const records = await getMany(keys.slice(start, start + MANY), raw)
    if (records.length !== MANY || records.some((r) => r === undefined)) throw new Error('idb-keyval getMany: missing records')
  },
  async 'indexedDbStore getMany'() {
    const start = nextIndex('tc-many', ENTRIES / MANY) * MANY
    const entries = await store.getMany(keys.slice(start, start + MANY))
    if (entries.length !== MANY || entries.some((e, j) => idOf(e) !== start + j)) throw new Error('indexedDbStore getMany: wrong entries')
  },
  async 'indexedDbStore getMany, access-time writes deferred'() {
    const start = nextIndex('deferred-many', ENTRIES / MANY) * MANY
    const entries = await deferred.getMany(keys.slice(start, start + MANY))
    if (entries.length !== MANY || entries.some((e, j) => idOf(e) !== start + j)) throw new Error('indexedDbStore getMany: wrong entries')
  },
  async network() {
    const i = nextIndex('net', URLS)
    const res = await fetch(urls[i], { cache: 'no-store' })
    const body = await res.json()
    if (body.id !== i) throw new Error(`network: ${urls[i]} answered ${JSON.stringify(body)}`)
  },
  async 'cachedFetch memory hit'() {
    const i = nextIndex('memory', URLS)
    const res = await memoryFetch(urls[i])
    const body = await res.json()
    if (body.id !== i || !/; hit; .*detail=memory/.test(statusOf(res))) throw new Error(`memory hit: ${urls[i]} -> ${statusOf(res)}`)
  },
}

/**
 * An IndexedDB-tier hit needs an empty memory tier: each operation gets a new memory tier (and the cache and
 * cachedFetch around it), built before its clock starts, over the same IndexedDB store.
 */
function idbHitFetch() {
  const cache = createCache({ tiers: [memoryStore({ maxEntries: 500 }), fetchStore], policy: { ttl: '1h' } })
  return createCachedFetch({ cache })
}

const api = {
  /** Fills both databases; resolves with what the page is able to measure. */
  async setup() {
    store = indexedDbStore({ dbName: DB, maxEntries: 10 * ENTRIES })
    const now = Date.now()
    for (let i = 0; i < ENTRIES; i++) {
      await store.set(keys[i], { value: valueOf(i), createdAt: now, freshUntil: now + 3_600_000, staleUntil: now + 3_600_000 })
    }
    await store.flush?.()
    // The same database and object store, read with idb-keyval directly: the very records indexedDbStore wrote.
    raw = createStore(DB, 'entries')
    const sample = await get(keys[0], raw)
    if (sample === undefined) throw new Error(`idb-keyval cannot see ${keys[0]} in ${DB}/entries: the store layout changed`)
    deferred = indexedDbStore({ dbName: DB, maxEntries: 10 * ENTRIES, accessFlushInterval: '1h' })

    fetchStore = indexedDbStore({ dbName: FETCH_DB, maxEntries: 10 * URLS })
    const primeCache = createCache({ tiers: [memoryStore({ maxEntries: 500 }), fetchStore], policy: { ttl: '1h' } })
    memoryFetch = createCachedFetch({ cache: primeCache })
    for (const url of urls) {
      const res = await memoryFetch(url)
      await res.arrayBuffer()
      if (!/fwd=uri-miss; .*stored/.test(statusOf(res))) throw new Error(`priming ${url}: ${statusOf(res)}`)
    }
    await primeCache.idle?.()
    rawFetch = createStore(FETCH_DB, 'entries')
    return { crossOriginIsolated: globalThis.crossOriginIsolated === true, userAgent: navigator.userAgent, recordBytes: JSON.stringify(sample).length }
  },

  /**
   * `ops` operations of one contender, one after another; resolves with each one's latency in ms.
   * @param {string} kind
   * @param {number} ops
   */
  async slice(kind, ops) {
    const latencies = await timed(kind, ops)
    // Untimed: let writes this slice started (access times, fills) finish before the next contender reads.
    await Promise.all([barrier(raw), barrier(rawFetch)])
    return latencies
  },
}

/**
 * @param {string} kind
 * @param {number} ops
 * @returns {Promise<number[]>}
 */
async function timed(kind, ops) {
  const latencies = new Array(ops)
  if (kind === 'cachedFetch IndexedDB hit') {
    for (let n = 0; n < ops; n++) {
      const i = nextIndex('idb-hit', URLS)
      const cachedFetch = idbHitFetch()
      const t0 = performance.now()
      const res = await cachedFetch(urls[i])
      const body = await res.json()
      latencies[n] = performance.now() - t0
      if (body.id !== i || !/; hit; .*detail=indexeddb/.test(statusOf(res))) throw new Error(`IndexedDB hit: ${urls[i]} -> ${statusOf(res)}`)
    }
    return latencies
  }
  const op = operations[kind]
  if (op === undefined) throw new Error(`no contender ${kind}`)
  for (let n = 0; n < ops; n++) {
    const t0 = performance.now()
    await op()
    latencies[n] = performance.now() - t0
  }
  return latencies
}

/**
 * Resolves once a readwrite transaction on the store completed: IndexedDB runs it after every transaction
 * already queued on that store, so the writes queued before it are done.
 * @param {import('idb-keyval').UseStore} useStore
 */
function barrier(useStore) {
  return useStore('readwrite', (os) => new Promise((resolve, reject) => {
    os.transaction.oncomplete = () => resolve(undefined)
    os.transaction.onerror = () => reject(os.transaction.error)
    os.count()
  }))
}

Object.assign(globalThis, { bench: api, __ready: true })
