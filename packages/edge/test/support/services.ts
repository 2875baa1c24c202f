// Test helpers that run inside workerd: the testkit Upstash endpoints (shared, or a pair of this file's own),
// their round-trip counters and fault injection over HTTP, real @upstash/redis clients, and a manual clock.
import { createCache, memoryStore, type Cache, type CacheEvent, type Duration, type Entry, type Policy } from '@tiercache/core'
import { Redis } from '@upstash/redis/cloudflare'
import { afterAll, beforeAll, beforeEach, inject } from 'vitest'
import { cacheApiStore, upstashCoordinator, upstashStore, type UpstashCoordinatorOptions } from '../../src/index'

export interface Endpoint {
  url: string
  token: string
}

export interface OwnEndpoint extends Endpoint {
  /** Stops this file's redis-server and endpoint. */
  stop(): Promise<void>
}

/** Round-trip counters of an endpoint (see tools/testkit README). */
export interface EndpointStats {
  requests: number
  commands: number
  byPath: Record<string, number>
  byCommand: Record<string, number>
  faulted: number
}

export type Fault = { mode: 'ok' } | { mode: 'error500' | 'down'; count?: number } | { mode: 'slow'; delayMs: number; count?: number }

/** The endpoint every file shares: use unique keys, never flush, count or fault it. */
export function sharedEndpoint(): Endpoint {
  return { url: inject('UPSTASH_TEST_URL'), token: inject('UPSTASH_TEST_TOKEN') }
}

/** A redis-server + endpoint for this file alone (about 50 ms), through the globalSetup's control endpoint. */
export async function ownEndpoint(): Promise<OwnEndpoint> {
  const control = inject('SERVICES_CONTROL_URL')
  const auth = { authorization: `Bearer ${inject('SERVICES_CONTROL_TOKEN')}` }
  const res = await fetch(`${control}/pairs`, { method: 'POST', headers: auth })
  if (!res.ok) throw new Error(`starting a redis + Upstash pair failed: ${res.status} ${await res.text()}`)
  const { id, url, token } = (await res.json()) as { id: string; url: string; token: string }
  return {
    url,
    token,
    async stop() {
      await (await fetch(`${control}/pairs/${id}`, { method: 'DELETE', headers: auth })).body?.cancel()
    },
  }
}

/**
 * Gives this file a redis + endpoint pair of its own: started before its tests (then `ready` is called), stopped
 * after them; before each test, faults are cleared and redis is flushed.
 */
export function withOwnEndpoint(ready: (endpoint: OwnEndpoint) => void): void {
  let endpoint: OwnEndpoint | undefined
  beforeAll(async () => {
    endpoint = await ownEndpoint()
    ready(endpoint)
  })
  afterAll(async () => {
    await endpoint?.stop()
  })
  beforeEach(async () => {
    if (endpoint === undefined) return
    await setFault(endpoint, { mode: 'ok' })
    await resetStats(endpoint, true)
  })
}

export interface IsolateOptions {
  /** L1: a Cache API cache of its own (the default; name it to share one), or a memory store. */
  l1?: 'cache-api' | 'memory'
  cacheName?: string
  now?: () => number
  tagCacheTtl?: Duration
  /** The client's own request timeout. @default redisFor's (12 s) */
  clientTimeoutMs?: number
  /** @default '10s' (see patientCoordinator) */
  coordinatorTimeout?: Duration
  /** @default '10s': a tier read given up on would be a miss, and a load more than a test counts */
  tierTimeout?: Duration
  lockWait?: Duration
  policy?: Policy
}

/**
 * One simulated isolate on the edge tiers: its own L1, client and upstashCoordinator, the endpoint's Redis. Its
 * timeouts are patient (10 s) unless given: a test of a timeout sets its own.
 */
export function edgeIsolate(endpoint: Endpoint, options: IsolateOptions = {}): { cache: Cache; events: CacheEvent[] } {
  const { now } = options
  const redis = redisFor(endpoint, { timeoutMs: options.clientTimeoutMs })
  const coordinator = patientCoordinator({ redis, tagCacheTtl: options.tagCacheTtl, timeout: options.coordinatorTimeout, now })
  const l1 = options.l1 === 'memory' ? memoryStore() : cacheApiStore({ cacheName: options.cacheName ?? unique('isolate'), now })
  const events: CacheEvent[] = []
  const cache = createCache({
    tiers: [l1, upstashStore({ redis, coordinator, now })],
    coordinator,
    now,
    tierTimeout: options.tierTimeout ?? '10s',
    lockWait: options.lockWait,
    policy: options.policy ?? { ttl: '1h' },
    onEvent: (e) => events.push(e),
  })
  return { cache, events }
}

/** An entry created now (real clock) with `lifeMs` of life. */
export function entryFor(value: unknown, lifeMs: number, extra: Partial<Entry> = {}): Entry {
  const t = Date.now()
  return { value, createdAt: t, freshUntil: t + lifeMs, staleUntil: t + lifeMs, ...extra }
}

/**
 * A real @upstash/redis client (the Workers build) for an endpoint, with a request timeout as the README
 * recommends. `retry: false` still makes two attempts in 1.39. The default 12 s is above patientCoordinator's 10 s
 * (a lock waiter blocks in calls of up to 80% of the coordinator's timeout); a test of a timeout gives its own.
 */
export function redisFor(endpoint: Endpoint, options: { timeoutMs?: number; autoPipelining?: boolean; deserialize?: boolean } = {}): Redis {
  const timeoutMs = options.timeoutMs ?? 12_000
  return new Redis({
    url: endpoint.url,
    token: endpoint.token,
    enableTelemetry: false,
    retry: false,
    signal: () => AbortSignal.timeout(timeoutMs),
    enableAutoPipelining: options.autoPipelining ?? true,
    automaticDeserialization: options.deserialize ?? true,
  })
}

/**
 * An upstashCoordinator for the tests that are not about its timeout. Its 1 s default runs on the real clock, which a
 * loaded 2-core machine can exceed for one request (the Durable Object coordinator's test failed that way at load
 * average ~20), and a lock or tag request given up on changes what a test counts. 10 s is many times the usual few ms
 * and under the 15 s test timeout. Options given (`timeout` included) win.
 */
export function patientCoordinator(options: UpstashCoordinatorOptions): ReturnType<typeof upstashCoordinator> {
  return upstashCoordinator({ ...options, timeout: options.timeout ?? '10s' })
}

async function testkit(endpoint: Endpoint, path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(`${endpoint.url}/__testkit/${path}`, {
    ...init,
    headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' },
  })
  if (!res.ok) throw new Error(`testkit ${path}: ${res.status} ${await res.text()}`)
  return res
}

export async function statsOf(endpoint: Endpoint): Promise<EndpointStats> {
  return (await testkit(endpoint, 'stats')).json()
}

/** Zeroes the counters; `flush` also empties redis. */
export async function resetStats(endpoint: Endpoint, flush = false): Promise<void> {
  await (await testkit(endpoint, `reset${flush ? '?flush=1' : ''}`, { method: 'POST' })).body?.cancel()
}

export async function setFault(endpoint: Endpoint, fault: Fault): Promise<void> {
  await (await testkit(endpoint, 'fault', { method: 'POST', body: JSON.stringify(fault) })).body?.cancel()
}

/** A clock tests move by hand, starting at the real time (Cache API and Redis expiry follow the real clock). */
export function manualClock(start = Date.now()): { now: () => number; advance(ms: number): void } {
  let t = start
  return {
    now: () => t,
    advance(ms: number) {
      t += ms
    },
  }
}

let serial = 0
/** A string no other test (or earlier run against a reused endpoint) has used. */
export function unique(label: string): string {
  return `${label}-${Date.now().toString(36)}-${(++serial).toString(36)}-${Math.random().toString(36).slice(2, 7)}`
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
