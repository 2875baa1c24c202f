import { context, metrics, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { observability } from './otel.js'

const spans = new InMemorySpanExporter()
const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })

// What an app's OpenTelemetry SDK setup does: global providers and an async context manager.
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }))
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))
})
afterAll(() => {
  context.disable()
  trace.disable()
  metrics.disable()
})

describe('the OpenTelemetry example (README "Observability")', () => {
  it('records a loaded then a fresh getOrSet under the request span, a load span, and the lookup counters', async () => {
    const r = await observability()
    expect(r.product).toEqual(r.again)
    expect(r.loads).toBe(1)

    const finished = spans.getFinishedSpans()
    const request = finished.find((s) => s.name === 'GET /products/1')
    const calls = finished.filter((s) => s.name === 'tiercache.getOrSet')
    const load = finished.find((s) => s.name === 'tiercache.load')
    expect(calls.map((s) => [s.attributes['tiercache.state'], s.attributes['tiercache.tier.name']])).toEqual([
      ['loaded', undefined],
      ['fresh', 'memory'],
    ])
    for (const call of calls) {
      expect(call.parentSpanContext?.spanId).toBe(request?.spanContext().spanId)
      expect(call.attributes['tiercache.cache.name']).toBe('products')
    }
    expect(load?.parentSpanContext?.spanId).toBe(calls[0]?.spanContext().spanId)

    await reader.forceFlush()
    const lookups = exporter
      .getMetrics()
      .at(-1)
      ?.scopeMetrics.flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'tiercache.lookups')
    const count = (result: string) => lookups?.dataPoints.find((p) => p.attributes['tiercache.lookup.result'] === result)?.value
    expect([count('hit'), count('miss')]).toEqual([1, 1])
  })
})
