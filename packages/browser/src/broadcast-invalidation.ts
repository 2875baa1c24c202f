import { namespacePrefix, type Cache, type CacheEvent, type Store } from '@tiercache/core'
import { capEntry, fromEnvelope, toEnvelope, type Envelope } from '@tiercache/core/store'
import { assertOptions, noop, optionalFunction, optionalString, typeOf } from '@tiercache/core/kit'
import { adoptingStamp, takeIssuing } from './stamp-relay.js'

/**
 * Options of `broadcastInvalidation`.
 *
 * @example
 * const options: BroadcastInvalidationOptions = { channel: 'my-app', local: (store) => store.name === 'memory' }
 */
export interface BroadcastInvalidationOptions {
  /** BroadcastChannel name: caches on the same name (and namespace) in every tab of the origin hear each other. @default 'tiercache' */
  channel?: string
  /**
   * Which tiers belong to this tab alone and so must be told: the others (IndexedDB) are shared by the origin already.
   * @default every tier in this tab's memory: the stores with the sync capability (`getSync`), memoryStore among them
   */
  local?: (store: Store, index: number) => boolean
  /** Clock (epoch ms) for capping received entries with a local tier's maxTtl. @default Date.now */
  now?: () => number
  /** The BroadcastChannel constructor. @default globalThis.BroadcastChannel */
  BroadcastChannel?: typeof BroadcastChannel
}

/**
 * What broadcastInvalidation returns.
 *
 * @example
 * const sync: BroadcastHandle = broadcastInvalidation(cache)
 * if (!sync.active) console.warn('no BroadcastChannel: tabs will not hear each other')
 * window.addEventListener('pagehide', () => sync.close())
 */
export interface BroadcastHandle {
  /** false where there is no BroadcastChannel: nothing is sent or heard, and close() does nothing. */
  readonly active: boolean
  /** Stops listening to the cache and closes the channel. Safe to call twice. */
  close(): void
}

interface Base {
  tiercache: 1
  /** The sending handle; a handle ignores its own messages. */
  from: string
  /** The sender's cache namespace: caches with another namespace ignore the message. */
  ns: string
}
type Message =
  | (Base & { op: 'write'; key: string; entry: Envelope })
  | (Base & { op: 'delete'; key: string })
  | (Base & { op: 'expire'; key: string })
  | (Base & {
      op: 'invalidate'
      tags: string[]
      mode?: 'hard' | 'soft'
      /** The stamp the sender's indexedDbCoordinator issued and committed to database `db`, for receivers to adopt. */
      stamp?: number
      db?: string
    })

/**
 * Applying a received message must not broadcast it again. Core emits events synchronously inside the call, so
 * a counter around the call marks them; it is shared by every handle in the realm, so that two handles in one
 * tab cannot bounce a message between them either.
 */
let applying = 0

/**
 * Keeps the in-memory tier of every tab of the origin coherent over a BroadcastChannel: a `set` or a fresh load
 * (a `write` event), a `delete`, an `expire` and an `invalidateTags` (hard or soft) in one tab reach the others. Writes and deletes are
 * applied to the other tabs' local tiers directly (IndexedDB is shared by the origin and already has them);
 * invalidations go through the other tabs' `cache.invalidateTags`, so every tier there stops serving the tags.
 * What a handle applies is never sent on again, and each handle ignores its own messages: no echo loops.
 * Where BroadcastChannel does not exist the handle is inactive and everything still works within the tab.
 *
 * @example
 * const cache = createCache({ tiers: [memoryStore(), indexedDbStore()], policy: { ttl: '5m' } })
 * const sync = broadcastInvalidation(cache, { channel: 'my-app' })
 * await cache.invalidateTags(['cart']) // every open tab stops serving 'cart' entries
 * sync.close()
 */
export function broadcastInvalidation(cache: Cache, options: BroadcastInvalidationOptions = {}): BroadcastHandle {
  if (typeof cache !== 'object' || cache === null || typeof cache.subscribe !== 'function' || !Array.isArray(cache.tiers)) {
    throw new TypeError(`broadcastInvalidation(cache) needs a cache from createCache(), got ${typeOf(cache)}`)
  }
  assertOptions(options, 'broadcastInvalidation(options)', true)
  const name = optionalString(options.channel, 'options.channel') ?? 'tiercache'
  const isLocal = optionalFunction<(store: Store, index: number) => boolean>(options.local, 'options.local') ?? ((store) => store.getSync !== undefined)
  const now = optionalFunction<() => number>(options.now, 'options.now') ?? Date.now
  const Channel = optionalFunction<typeof BroadcastChannel>(options.BroadcastChannel, 'options.BroadcastChannel') ?? globalThis.BroadcastChannel
  if (Channel === undefined) return { active: false, close() {} }

  const local = cache.tiers.filter((store, i) => isLocal(store, i))
  const ns = cache.namespace
  const prefix = namespacePrefix(ns)
  const from = Math.random().toString(36).slice(2) + Date.now().toString(36)
  const channel = new Channel(name)

  const send = (message: Message): void => {
    try {
      channel.postMessage(message)
    } catch {
      // A value the structured clone refuses, or a closed channel: other tabs just miss this update.
    }
  }

  const unsubscribe = cache.subscribe((event: CacheEvent) => {
    if (applying > 0) return
    const base: Base = { tiercache: 1, from, ns }
    if (event.type === 'write' && event.entry !== undefined) send({ ...base, op: 'write', key: prefix + event.key, entry: toEnvelope(event.entry) })
    else if (event.type === 'delete') send({ ...base, op: 'delete', key: prefix + event.key })
    else if (event.type === 'expire') send({ ...base, op: 'expire', key: event.key })
    else if (event.type === 'invalidate' && event.tags !== undefined) {
      const message: Message = { ...base, op: 'invalidate', tags: [...event.tags], mode: event.mode }
      // With an indexedDbCoordinator, sent once its stamp is committed, carrying it: the other tabs adopt it.
      const issued = takeIssuing()
      if (issued === undefined) send(message)
      else issued.stamp.then((stamp) => send({ ...message, stamp, db: issued.db }), () => send(message))
    }
  })

  channel.onmessage = (e: MessageEvent) => {
    const message = e.data as Partial<Message> | null
    if (typeof message !== 'object' || message === null || message.tiercache !== 1 || message.from === from || message.ns !== ns) return
    applying++
    try {
      if (message.op === 'write' && typeof message.key === 'string') {
        const entry = fromEnvelope(message.entry)
        if (entry === undefined) return
        for (const store of local) {
          // What core would write there: every window ended by the store's maxTtl.
          const capped = store.maxTtl === undefined ? entry : capEntry(entry, now() + store.maxTtl)
          store.set(message.key, capped).catch(noop)
        }
      } else if (message.op === 'delete' && typeof message.key === 'string') {
        for (const store of local) store.delete(message.key).catch(noop)
      } else if (message.op === 'expire' && typeof message.key === 'string') {
        // Expires this tab's tiers too (the shared IndexedDB entry is no longer fresh: left as it is).
        cache.expire(message.key).catch(noop)
      } else if (message.op === 'invalidate' && Array.isArray(message.tags)) {
        // A tab whose coordinator keeps no soft records applies a soft invalidation as a hard one.
        const tags = message.tags
        // The sender's stamp, adopted by an indexedDbCoordinator of the same database instead of issuing a later one.
        const { stamp, db } = message
        const relay = (invalidate: () => Promise<void>): Promise<void> =>
          typeof stamp === 'number' && Number.isSafeInteger(stamp) && stamp > 0 && typeof db === 'string' ? adoptingStamp(db, stamp, invalidate) : invalidate()
        // (Core emits synchronously: the hard one, applied later, is kept from echoing like the rest.)
        const hard = (): Promise<void> => {
          applying++
          try {
            return relay(() => cache.invalidateTags(tags))
          } finally {
            applying--
          }
        }
        if (message.mode === 'soft') relay(() => cache.invalidateTags(tags, { mode: 'soft' })).catch(hard).catch(noop)
        else hard().catch(noop)
      }
    } finally {
      applying--
    }
  }

  let closed = false
  return {
    active: true,
    close() {
      if (closed) return
      closed = true
      unsubscribe()
      channel.onmessage = null
      channel.close()
    },
  }
}

