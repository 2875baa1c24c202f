import { trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createCache, memoryStore } from '@tiercache/core'
import { instrumentCache } from '@tiercache/core/otel'
import { withCache } from '@tiercache/edge'
import { describe, expect, it } from 'vitest'

describe('the edge README "OpenTelemetry" setup: withCache over an instrumented cache, under Node', () => {
  it('records one tiercache.getOrSet span per request withCache looks up, with how it was answered', async () => {
    const spans = new InMemorySpanExporter()
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
    let origin = 0
    const fetch = withCache(async () => Response.json({ n: ++origin }), {
      // As in edge/otel.ts, on a memory tier (Node has no Workers Cache API); the global provider there, this one here.
      cache: () => instrumentCache(createCache({ tiers: [memoryStore()] }), { tracerProvider }),
      policy: { ttl: '30s' },
    })
    const waits: Promise<unknown>[] = []
    const ctx = { waitUntil: (p: Promise<unknown>) => void waits.push(p), passThroughOnException() {} }
    const first = await fetch(new Request('https://example.com/a'), {}, ctx)
    const second = await fetch(new Request('https://example.com/a'), {}, ctx)
    await Promise.all(waits)
    expect(await first.json()).toEqual({ n: 1 })
    expect(await second.json()).toEqual({ n: 1 })
    expect(second.headers.get('cache-status')).toMatch(/hit/)
    const calls = spans.getFinishedSpans().filter((s) => s.name === 'tiercache.getOrSet')
    expect(calls.map((s) => [s.attributes['tiercache.state'], s.attributes['tiercache.tier.name']])).toEqual([
      ['loaded', undefined],
      ['fresh', 'memory'],
    ])
    expect(spans.getFinishedSpans().filter((s) => s.name === 'tiercache.load')).toHaveLength(1)
    expect(trace.getActiveSpan()).toBeUndefined()
  })
})
