import { context, SpanStatusCode, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createCache, memoryStore, type CacheOptions, type ReadStatus, type Store } from '../index.js'
import { instrumentCache, type InstrumentCacheOptions } from './index.js'

const spans = new InMemorySpanExporter()
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
const contextManager = new AsyncLocalStorageContextManager()

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable())
})
afterAll(() => {
  context.disable()
})

let clock = 0
let meterProvider: MeterProvider
let reader: PeriodicExportingMetricReader

beforeEach(() => {
  clock = 1_000_000
  spans.reset()
  metricExporter.reset()
  // A new provider per test: observable counters are cumulative per cache, and each test builds its own cache.
  reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })
  meterProvider = new MeterProvider({ readers: [reader] })
})

function setup(cacheOptions: Partial<CacheOptions> = {}, options: InstrumentCacheOptions = {}) {
  const now = (): number => clock
  const base = createCache({ tiers: [memoryStore()], policy: { ttl: '1m' }, now, ...cacheOptions })
  const cache = instrumentCache(base, { tracerProvider, meterProvider, now, ...options })
  return { base, cache }
}

function finished(name: string): ReadableSpan[] {
  return spans.getFinishedSpans().filter((span) => span.name === name)
}

function only(name: string): ReadableSpan {
  const found = finished(name)
  expect(found.map((span) => span.name)).toEqual([name])
  return found[0] as ReadableSpan
}

function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId
}

async function collect(): Promise<Map<string, DataPoint<unknown>[]>> {
  await reader.forceFlush()
  const exported = metricExporter.getMetrics()
  const last = exported[exported.length - 1]
  const byName = new Map<string, DataPoint<unknown>[]>()
  for (const scope of last?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric.dataPoints as DataPoint<unknown>[])
  }
  return byName
}

function value(points: DataPoint<unknown>[] | undefined, attributes: Record<string, unknown>): unknown {
  const point = points?.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))
  return point?.value
}

const tick = (ms: number) => async () => {
  clock += ms
  return undefined
}

describe('instrumentCache: spans', () => {
  it('a miss records a loaded span with a child load span; the next call a fresh hit of L1', async () => {
    const { cache } = setup()
    const loader = async () => {
      clock += 25
      return { id: 1 }
    }
    expect(await cache.getOrSet('user:1', loader)).toEqual({ id: 1 })
    const call = only('tiercache.getOrSet')
    const load = only('tiercache.load')
    expect(call.kind).toBe(0) // INTERNAL
    expect(call.attributes).toMatchObject({
      'tiercache.namespace': '',
      'tiercache.state': 'loaded',
      'tiercache.stored': true,
      'tiercache.load.duration_ms': 25,
    })
    expect(call.attributes['tiercache.tier.name']).toBeUndefined()
    expect(call.attributes['tiercache.key']).toBeUndefined()
    expect(call.status.code).toBe(SpanStatusCode.UNSET)
    expect(parentOf(load)).toBe(call.spanContext().spanId)
    expect(load.attributes).toMatchObject({ 'tiercache.load.background': false })

    spans.reset()
    expect(await cache.getOrSet('user:1', loader)).toEqual({ id: 1 })
    expect(only('tiercache.getOrSet').attributes).toMatchObject({ 'tiercache.state': 'fresh', 'tiercache.tier.name': 'memory', 'tiercache.tier.index': 0 })
    expect(finished('tiercache.load')).toEqual([])
  })

  it('names the lower tier that answered, and a cached "not found" as negative', async () => {
    const l2 = memoryStore()
    const { cache } = setup({ tiers: [memoryStore(), namedStore(l2, 'l2')] })
    await cache.getOrSet('gone', () => null)
    expect(only('tiercache.load').attributes['tiercache.load.negative']).toBe(true)
    await cache.tiers[0]?.delete(':gone') // L1 forgets it (the full key of the empty namespace)
    spans.reset()
    expect(await cache.getOrSet('gone', () => 'loaded again')).toBeNull()
    expect(only('tiercache.getOrSet').attributes).toMatchObject({ 'tiercache.state': 'negative', 'tiercache.tier.name': 'l2', 'tiercache.tier.index': 1 })
  })

  it('a stale answer within swr: the refresh runs in a background load span, a child of the call that started it', async () => {
    const { cache } = setup({ policy: { ttl: '1m', swr: '5m' } })
    let n = 0
    const loader = async () => ++n
    await cache.getOrSet('k', loader)
    clock += 90_000
    spans.reset()
    expect(await cache.getOrSet('k', loader)).toBe(1)
    await cache.idle()
    const call = only('tiercache.getOrSet')
    expect(call.attributes).toMatchObject({ 'tiercache.state': 'stale', 'tiercache.refreshing': true, 'tiercache.tier.name': 'memory' })
    expect(call.attributes['tiercache.load.duration_ms']).toBeUndefined()
    const load = only('tiercache.load')
    expect(load.attributes['tiercache.load.background']).toBe(true)
    expect(parentOf(load)).toBe(call.spanContext().spanId)
    expect(await cache.getOrSet('k', loader)).toBe(2)
  })

  it('a loader error that reaches the caller: both spans failed, with error.type and the exception', async () => {
    const { cache } = setup()
    await expect(cache.getOrSet('k', () => Promise.reject(new RangeError('db down')))).rejects.toThrow('db down')
    for (const span of [only('tiercache.getOrSet'), only('tiercache.load')]) {
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'db down' })
      expect(span.attributes['error.type']).toBe('RangeError')
      expect(span.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([['exception', 'db down']])
    }
  })

  it('stale-if-error: the caller got an answer, so only the load span failed', async () => {
    const { cache } = setup({ policy: { ttl: '1m', staleIfError: '1h' } })
    await cache.getOrSet('k', () => 'old')
    clock += 120_000
    spans.reset()
    expect(await cache.getOrSet('k', () => Promise.reject(new Error('db down')))).toBe('old')
    const call = only('tiercache.getOrSet')
    expect(call.status.code).toBe(SpanStatusCode.UNSET)
    expect(call.attributes).toMatchObject({ 'tiercache.state': 'stale-if-error' })
    expect(only('tiercache.load').status.code).toBe(SpanStatusCode.ERROR)
  })

  it('a RangeError for a bad key still ends the span, failed; the error is thrown at the call site as before', () => {
    const { cache } = setup()
    expect(() => cache.getOrSet('', () => 1)).toThrow(RangeError)
    expect(only('tiercache.getOrSet').attributes['error.type']).toBe('RangeError')
  })

  it('concurrent calls: one load span; the joiner is marked collapsed', async () => {
    const { cache } = setup({ tiers: [memoryStore(), namedStore(memoryStore(), 'l2')] })
    let release: (v: string) => void = () => {}
    const gate = new Promise<string>((resolve) => (release = resolve))
    const a = cache.getOrSet('k', () => gate)
    const b = cache.getOrSet('k', () => 'never')
    release('v')
    expect(await Promise.all([a, b])).toEqual(['v', 'v'])
    const calls = finished('tiercache.getOrSet')
    expect(calls.map((s) => s.attributes['tiercache.collapsed'] === true).sort()).toEqual([false, true])
    expect(finished('tiercache.load')).toHaveLength(1)
  })

  it("the caller's own status object is still filled in", async () => {
    const { cache } = setup()
    const status: ReadStatus = {}
    await cache.getOrSet('k', () => 1, undefined, { status })
    expect(status.state).toBe('loaded')
    expect(only('tiercache.getOrSet').attributes['tiercache.state']).toBe('loaded')
  })

  it('spans the loader starts nest under its load span, across awaits', async () => {
    const { cache } = setup()
    const db = tracerProvider.getTracer('db')
    await cache.getOrSet('k', async () => {
      await Promise.resolve()
      await tick(1)()
      db.startSpan('SELECT users').end()
      return 1
    })
    expect(parentOf(only('SELECT users'))).toBe(only('tiercache.load').spanContext().spanId)
  })

  it("a call inside the app's active span is its child; recordKeys puts the key on the span", async () => {
    const { cache } = setup({}, { recordKeys: true, attributes: { 'tiercache.cache.name': 'users' } })
    const request = tracerProvider.getTracer('app').startSpan('GET /users/1')
    await context.with(trace.setSpan(context.active(), request), () => cache.getOrSet('user:1', () => 1))
    request.end()
    const call = only('tiercache.getOrSet')
    expect(parentOf(call)).toBe(request.spanContext().spanId)
    expect(call.attributes).toMatchObject({ 'tiercache.key': 'user:1', 'tiercache.cache.name': 'users' })
  })

  it('getManyOrSet: one span with the batch size and how many keys were loaded, one load span for them', async () => {
    const { cache } = setup()
    await cache.set('a', 'A')
    const values = await cache.getManyOrSet(['a', 'b', 'c'], async (keys) => keys.map((k) => k.toUpperCase()))
    expect(values).toEqual(['A', 'B', 'C'])
    const call = only('tiercache.getManyOrSet')
    expect(call.attributes).toMatchObject({ 'tiercache.batch.size': 3, 'tiercache.batch.loaded': 2 })
    const load = only('tiercache.load')
    expect(load.attributes).toMatchObject({ 'tiercache.batch.size': 2, 'tiercache.load.background': false })
    expect(parentOf(load)).toBe(call.spanContext().spanId)
  })

  it('get: a span with the state, miss included', async () => {
    const { cache } = setup()
    expect(await cache.get('nothing')).toBeUndefined()
    expect(only('tiercache.get').attributes['tiercache.state']).toBe('miss')
  })

  it('withContext views stay instrumented and hand background work to their waitUntil', async () => {
    const { cache } = setup({ policy: { ttl: '1m', swr: '5m' } })
    await cache.getOrSet('k', () => 1)
    clock += 90_000
    const handed: Promise<unknown>[] = []
    const view = cache.withContext({ waitUntil: (p) => void handed.push(p) })
    spans.reset()
    expect(await view.getOrSet('k', () => 2)).toBe(1)
    await Promise.all(handed)
    expect(handed.length).toBeGreaterThan(0)
    expect(only('tiercache.getOrSet').attributes['tiercache.state']).toBe('stale')
    expect(only('tiercache.load').attributes['tiercache.load.background']).toBe(true)
  })

  it('every other call goes to the wrapped cache, untraced', async () => {
    const { base, cache } = setup({ policy: { ttl: '1m', swr: '5m' } })
    await cache.set('a', 1, { tags: ['t'] })
    expect(await base.get('a')).toBe(1)
    await cache.expire('a')
    const status: ReadStatus = {}
    expect(await base.get('a', { status })).toBe(1)
    expect(status.state).toBe('stale')
    await cache.invalidateTags(['t'])
    expect(await base.get('a')).toBeUndefined()
    await cache.write('b', 2, () => undefined)
    await cache.delete('b')
    expect(await base.get('b')).toBeUndefined()
    expect(cache.stats()).toEqual(base.stats())
    expect(cache.cacheControl()).toBe(base.cacheControl())
    expect(cache.instrumented).toBe(base)
    expect(cache.tiers).toBe(base.tiers)
    expect(finished('tiercache.getOrSet')).toEqual([])
  })

  it('bad options throw a TypeError naming the option', () => {
    const base = createCache({ tiers: [memoryStore()] })
    expect(() => instrumentCache(base, { recordKeys: 'yes' as unknown as boolean })).toThrow('options.recordKeys must be a boolean')
    expect(() => instrumentCache(base, { tracerProvider: {} as never })).toThrow('options.tracerProvider')
    expect(() => instrumentCache({} as never)).toThrow('cache must be a cache from createCache()')
  })
})

describe('instrumentCache: metrics', () => {
  it('per-tier lookups, evictions and fills from stats(); load and call durations as histograms', async () => {
    const l1 = memoryStore({ maxEntries: 1 })
    const { cache } = setup({ tiers: [l1, namedStore(memoryStore(), 'l2')] })
    await cache.getOrSet('a', async () => {
      clock += 40
      return 'A'
    }) // miss, miss, load
    await cache.getOrSet('b', () => 'B') // miss, miss, load; L1 evicts a
    await cache.getOrSet('a', () => 'never') // L1 miss, L2 hit, fill L1 (evicts b)
    await cache.getOrSet('a', () => 'never') // L1 hit
    await expect(cache.getOrSet('c', () => Promise.reject(new Error('x')))).rejects.toThrow('x')
    const m = await collect()
    const base = { 'tiercache.namespace': '' }
    expect(value(m.get('tiercache.lookups'), { ...base, 'tiercache.lookup.result': 'hit' })).toBe(2)
    expect(value(m.get('tiercache.lookups'), { ...base, 'tiercache.lookup.result': 'miss' })).toBe(3)
    const tier = (name: string, index: number, result?: string) => ({ ...base, 'tiercache.tier.name': name, 'tiercache.tier.index': index, ...(result ? { 'tiercache.lookup.result': result } : {}) })
    expect(value(m.get('tiercache.tier.lookups'), tier('memory', 0, 'hit'))).toBe(1)
    expect(value(m.get('tiercache.tier.lookups'), tier('memory', 0, 'miss'))).toBe(4)
    expect(value(m.get('tiercache.tier.lookups'), tier('l2', 1, 'hit'))).toBe(1)
    expect(value(m.get('tiercache.tier.lookups'), tier('l2', 1, 'miss'))).toBe(3)
    expect(value(m.get('tiercache.tier.evictions'), tier('memory', 0))).toBe(2)
    expect(value(m.get('tiercache.tier.fills'), tier('memory', 0))).toBe(1)
    expect(value(m.get('tiercache.tier.errors'), tier('l2', 1))).toBe(0)

    const loads = m.get('tiercache.load.duration') as DataPoint<Histogram>[]
    const ok = loads.find((p) => p.attributes['error.type'] === undefined)?.value
    expect(ok?.count).toBe(2)
    expect(ok?.max).toBeCloseTo(0.04)
    expect(loads.find((p) => p.attributes['error.type'] === 'Error')?.value.count).toBe(1)

    const calls = m.get('tiercache.operation.duration') as DataPoint<Histogram>[]
    const count = (attributes: Record<string, unknown>) => calls.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))?.value.count
    expect(count({ 'tiercache.operation.name': 'getOrSet', 'tiercache.state': 'loaded' })).toBe(2)
    expect(count({ 'tiercache.operation.name': 'getOrSet', 'tiercache.state': 'fresh', 'tiercache.tier.name': 'l2' })).toBe(1)
    expect(count({ 'tiercache.operation.name': 'getOrSet', 'tiercache.state': 'fresh', 'tiercache.tier.name': 'memory' })).toBe(1)
    expect(count({ 'tiercache.operation.name': 'getOrSet', 'error.type': 'Error' })).toBe(1)
    expect(m.get('tiercache.load.duration')?.[0]).toBeDefined()
    const descriptor = metricExporter.getMetrics().at(-1)?.scopeMetrics[0]?.metrics.find((x) => x.descriptor.name === 'tiercache.load.duration')
    expect(descriptor?.descriptor.unit).toBe('s')
    expect(descriptor?.dataPointType).toBe(DataPointType.HISTOGRAM)
  })

  it('stale answers count per tier; detach() stops the counters', async () => {
    const { cache } = setup({ policy: { ttl: '1m', swr: '5m' } })
    await cache.getOrSet('k', () => 1)
    clock += 90_000
    await cache.getOrSet('k', () => 2)
    await cache.idle()
    let m = await collect()
    expect(value(m.get('tiercache.lookups'), { 'tiercache.lookup.result': 'stale' })).toBe(1)
    expect(value(m.get('tiercache.tier.lookups'), { 'tiercache.tier.name': 'memory', 'tiercache.lookup.result': 'stale' })).toBe(1)
    expect(value(m.get('tiercache.refreshes'), {})).toBe(1)
    cache.detach()
    await cache.getOrSet('k', () => 3) // a hit nobody reports any more
    m = await collect()
    expect(cache.stats().hits).toBe(1)
    expect(value(m.get('tiercache.lookups'), { 'tiercache.lookup.result': 'hit' })).toBe(0)
  })

  it("two caches told apart by their namespace and the caller's attributes", async () => {
    const a = setup({ namespace: 'a' }).cache
    const b = setup({ namespace: 'b' }, { attributes: { 'tiercache.cache.name': 'sessions' } }).cache
    await a.getOrSet('k', () => 1)
    await b.getOrSet('k', () => 1)
    await b.getOrSet('k', () => 1)
    const m = await collect()
    expect(value(m.get('tiercache.lookups'), { 'tiercache.namespace': 'a', 'tiercache.lookup.result': 'miss' })).toBe(1)
    expect(value(m.get('tiercache.lookups'), { 'tiercache.namespace': 'b', 'tiercache.cache.name': 'sessions', 'tiercache.lookup.result': 'hit' })).toBe(1)
  })
})

/** A store under another name (tiers are told apart by name). */
function namedStore(store: Store, name: string): Store {
  return {
    name,
    get: (key) => store.get(key),
    set: (key, entry) => store.set(key, entry),
    delete: (key) => store.delete(key),
    // The memory store judges expiry by the cache's clock, as it would unwrapped.
    useClock: (now) => store.useClock?.(now),
  }
}

describe('zero cost when not used', () => {
  it('nothing the main entry imports reaches the otel subpath or @opentelemetry/api', async () => {
    const { readFile } = await import('node:fs/promises')
    const { dirname, resolve } = await import('node:path')
    const { fileURLToPath } = await import('node:url')
    const src = resolve(dirname(fileURLToPath(import.meta.url)), '..')
    const seen = new Set<string>()
    const bare = new Set<string>()
    const visit = async (file: string): Promise<void> => {
      if (seen.has(file)) return
      seen.add(file)
      const text = await readFile(file, 'utf8')
      // Type-only imports and exports vanish from the build; only those that stay can pull code in.
      for (const [, typeOnly, spec] of text.matchAll(/^(?:import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)) {
        if (typeOnly !== undefined || spec === undefined) continue
        if (spec.startsWith('.')) await visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
        else bare.add(spec)
      }
    }
    await visit(resolve(src, 'index.ts'))
    expect(seen.size).toBeGreaterThan(20)
    expect([...seen].filter((file) => file.includes('/otel/'))).toEqual([])
    expect([...bare].filter((spec) => spec.startsWith('@opentelemetry'))).toEqual([])
  })
})
