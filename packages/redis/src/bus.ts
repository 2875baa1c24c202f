import type { Store } from '@tiercache/core'
import type { Cluster, Redis } from 'ioredis'
import type { RedisClient } from './client.js'

/** What the bus reports (coordinator option `onBus`). */
export type BusEvent =
  /** The subscription works again (the first time, or after a gap): `gap` when messages may have been missed. */
  | { type: 'up'; gap: boolean; at: number }
  /** The subscription stopped working (connection lost, heartbeat overdue): invalidations may be missed. */
  | { type: 'down'; reason: string; at: number }
  /** Another server wrote or deleted these keys: they were dropped from the local tiers. */
  | { type: 'keys'; keys: readonly string[]; delayMs: number; at: number }
  /** Another server invalidated these tags: their stamps are read again from Redis on next use. */
  | { type: 'tags'; tags: readonly string[]; delayMs: number; at: number }

/** What the bus does with what it hears, given by the coordinator. */
export interface BusHandlers {
  /** Tags another server invalidated. */
  tags(tags: readonly string[]): void
  /** Messages may have been missed: forget whatever they could have changed. */
  gap(): void
}

export interface BusOptions {
  channel: string
  /** In-process tiers to drop a key from when another server writes or deletes it. */
  local: readonly Store[]
  /** Interval of the loop-back heartbeat in ms. */
  heartbeat: number
  /** How many recently evicted keys to remember for readers in flight. */
  remember: number
  onEvent: ((event: BusEvent) => void) | undefined
}

/** One message on the channel (JSON). */
interface Message {
  /** Sender id. */
  o: string
  /** Sender's clock when sent (ms), for the delay. */
  a: number
  /** Keys written or deleted. */
  k?: readonly string[]
  /** Tags invalidated. */
  t?: readonly string[]
  /** Heartbeat number. */
  h?: number
}

/**
 * The invalidation bus on Redis pub/sub: one subscriber connection (a duplicate of the app's client) on one
 * channel. Writes, deletes and tag invalidations of each server are published in the same round trip as the
 * command itself; every other server drops the keys from its in-process tiers and forgets the tags' stamps.
 *
 * Pub/sub delivers at most once and loses what is sent while a subscriber is away, so the bus watches itself: a
 * heartbeat it publishes must come back on its own subscription. When it does not (connection lost, a partition
 * that leaves TCP silent), the bus is down; when it comes back, everything a missed message could have changed is
 * forgotten: the local tiers are cleared and tag stamps are read again.
 */
export class RedisBus {
  readonly id: string
  readonly channel: string
  readonly #client: RedisClient
  readonly #subscriber: Redis | Cluster
  readonly #local: readonly Store[]
  readonly #heartbeat: number
  readonly #remember: number
  readonly #onEvent: ((event: BusEvent) => void) | undefined
  readonly #handlers: BusHandlers
  readonly #timer: ReturnType<typeof setInterval> | undefined
  #up = false
  /** Whether messages may have been missed since the bus was last up. */
  #gap = false
  #beatSent = 0
  #lastBeatSeen = Date.now()
  #closed = false
  /** Number of key messages heard so far; readers compare it before and after a read. */
  #heard = 0
  /** Key -> #heard when it was last evicted; bounded, oldest first. */
  readonly #evicted = new Map<string, number>()

  constructor(client: RedisClient, options: BusOptions, handlers: BusHandlers) {
    this.id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`
    this.channel = options.channel
    this.#client = client
    this.#local = options.local
    this.#heartbeat = options.heartbeat
    this.#remember = options.remember
    this.#onEvent = options.onEvent
    this.#handlers = handlers
    this.#subscriber = subscriberFor(client)
    // ioredis re-subscribes after each reconnect (autoResubscribe); the heartbeat tells when that worked.
    this.#subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.#hear(text)
    })
    this.#subscriber.on('error', () => {
      // Reported as 'down' through the heartbeat; ioredis reconnects on its own.
    })
    this.#subscriber.on('close', () => this.#down('subscriber connection closed'))
    // A heartbeat as soon as the subscription is there (at start-up and after each reconnect), not a period later.
    this.#subscriber.on('ready', () => this.#beat())
    this.#subscriber
      .subscribe(this.channel)
      .then(() => this.#beat())
      .catch(() => undefined)
    if (this.#heartbeat > 0) {
      this.#timer = setInterval(() => this.#beat(), this.#heartbeat)
      this.#timer.unref?.()
      this.#beat()
    }
  }

  /** Whether the subscription is known to work (its last heartbeat came back in time). */
  get up(): boolean {
    return this.#up
  }

  /** A counter of the key messages heard; pass it to `evictedSince` after a read. */
  get heard(): number {
    return this.#heard
  }

  /** Whether another server changed `key` after `heard` was read: a read in flight then may hold the old value. */
  evictedSince(key: string, heard: number): boolean {
    const at = this.#evicted.get(key)
    return at !== undefined && at > heard
  }

  keysMessage(keys: readonly string[]): string {
    return JSON.stringify({ o: this.id, a: Date.now(), k: keys } satisfies Message)
  }

  tagsMessage(tags: readonly string[]): string {
    return JSON.stringify({ o: this.id, a: Date.now(), t: tags } satisfies Message)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#subscriber.disconnect()
  }

  #hear(text: string): void {
    let message: Message
    try {
      message = JSON.parse(text) as Message
    } catch {
      return
    }
    if (typeof message !== 'object' || message === null || typeof message.o !== 'string') return
    if (message.o === this.id) {
      if (message.h !== undefined) this.#beatSeen()
      return
    }
    const now = Date.now()
    const delayMs = typeof message.a === 'number' ? Math.max(0, now - message.a) : 0
    if (Array.isArray(message.k)) {
      const keys = message.k.filter((key): key is string => typeof key === 'string')
      this.#heard++
      for (const key of keys) {
        this.#evicted.delete(key)
        this.#evicted.set(key, this.#heard)
        for (const store of this.#local) store.delete(key).catch(() => undefined)
      }
      if (this.#evicted.size > this.#remember) {
        for (const key of this.#evicted.keys()) {
          this.#evicted.delete(key)
          if (this.#evicted.size <= this.#remember) break
        }
      }
      this.#emit({ type: 'keys', keys, delayMs, at: now })
    }
    if (Array.isArray(message.t)) {
      const tags = message.t.filter((tag): tag is string => typeof tag === 'string')
      this.#handlers.tags(tags)
      this.#emit({ type: 'tags', tags, delayMs, at: now })
    }
  }

  #beat(): void {
    const now = Date.now()
    // Three heartbeats unanswered: the subscription does not work, whatever the connection says.
    if (this.#up && now - this.#lastBeatSeen > 3 * this.#heartbeat) this.#down(`no heartbeat for ${now - this.#lastBeatSeen} ms`)
    this.#client
      .publish(this.channel, JSON.stringify({ o: this.id, a: now, h: ++this.#beatSent } satisfies Message))
      .catch(() => undefined)
  }

  #beatSeen(): void {
    this.#lastBeatSeen = Date.now()
    if (this.#up) return
    this.#up = true
    const gap = this.#gap
    this.#gap = false
    if (gap) {
      // What was missed is unknown: drop every local copy, read every tag stamp again.
      for (const store of this.#local) clearStore(store)
      this.#evicted.clear()
      this.#heard++
      this.#handlers.gap()
    }
    this.#emit({ type: 'up', gap, at: this.#lastBeatSeen })
  }

  #down(reason: string): void {
    if (this.#closed) return
    this.#gap = true
    if (!this.#up) return
    this.#up = false
    this.#emit({ type: 'down', reason, at: Date.now() })
  }

  #emit(event: BusEvent): void {
    try {
      this.#onEvent?.(event)
    } catch {
      // a listener's failure is not the bus's
    }
  }
}

/**
 * A connection for SUBSCRIBE: a duplicate of the app's client whose commands may wait for a connection (only
 * SUBSCRIBE ever waits there), so that a server unreachable at start-up is subscribed to once it answers.
 */
function subscriberFor(client: RedisClient): Redis | Cluster {
  const wait = { enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: true, lazyConnect: false }
  if (client.isCluster) {
    const cluster = client as Cluster
    return cluster.duplicate([], { enableOfflineQueue: true, redisOptions: { ...cluster.options.redisOptions, ...wait } })
  }
  return (client as Redis).duplicate(wait)
}

/** Empties an in-process store: `clear()` when it has one (memoryStore does). */
function clearStore(store: Store): void {
  const clear = (store as { clear?: unknown }).clear
  if (typeof clear === 'function') {
    try {
      ;(clear as () => void).call(store)
    } catch {
      // nothing better to do
    }
  }
}
