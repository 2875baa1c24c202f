import { trace } from '@opentelemetry/api'
import { createCache, memoryStore } from '@tiercache/core'
import { instrumentCache } from '@tiercache/core/otel'
import { createSlowDb } from './db.js'

export async function observability() {
  const db = createSlowDb(5)

  // Once the OpenTelemetry SDK has started (it registers the global tracer and meter providers;
  // or pass { tracerProvider, meterProvider }):
  const cache = instrumentCache(createCache({ tiers: [memoryStore()], policy: { ttl: '5m', swr: '1m' } }), {
    attributes: { 'tiercache.cache.name': 'products' }, // on every span and metric point
  })

  return trace.getTracer('shop').startActiveSpan('GET /products/1', async (request) => {
    const product = await cache.getOrSet('product:1', () => db.product(1)) // tiercache.getOrSet: state 'loaded', a tiercache.load child
    const again = await cache.getOrSet('product:1', () => db.product(1)) // tiercache.getOrSet: state 'fresh', tier 'memory'
    request.end()
    return { product, again, loads: db.calls.product }
  })
}
