// The demo's productPolicy.hardTimeout (src/worker.ts: the request budget less tierTimeout and lockWait), against the
// real Worker started as `npm run demo` starts it, with a database that never answers (ORIGIN_DELAY_MS of an hour:
// every query waits that long before it reaches D1). A product request, the requests that join its load and a batch
// must get a 503 once hardTimeout has passed, as when the database is down, instead of holding their connections
// until the client gives up. Without hardTimeout they would wait the hour: the bound below, five times hardTimeout,
// fails them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDemo, type Demo } from './demo-process.js'

/** Far beyond any run of this file: the database never answers while it lasts. */
const NEVER_MS = 3_600_000
/** How long a request may take here: five times the demo's hardTimeout (12 s), far from the hour it would wait without one. */
const BOUND_MS = 60_000

let demo: Demo

beforeAll(async () => {
  demo = await startDemo({ env: { ORIGIN_DELAY_MS: String(NEVER_MS) }, args: ['--l2', 'memory', '--coordinator', 'local'], external: false })
})

afterAll(async () => {
  await demo?.stop()
})

interface Answer {
  path: string
  status: number | 'no answer'
  error: string
  cacheControl: string | null
  ms: number
}

async function get(path: string): Promise<Answer> {
  const started = performance.now()
  try {
    const response = await fetch(`${demo.url}${path}`, { signal: AbortSignal.timeout(BOUND_MS) })
    const body = (await response.json()) as { error?: string }
    return { path, status: response.status, error: body.error ?? '', cacheControl: response.headers.get('cache-control'), ms: performance.now() - started }
  } catch (error) {
    return { path, status: 'no answer', error: String(error), cacheControl: null, ms: performance.now() - started }
  }
}

describe('the demo Worker with a database that never answers', () => {
  it(
    'answers a product, the requests joining its load and a batch with 503 once hardTimeout has passed',
    async () => {
      const answers = await Promise.all(['/api/products/7', '/api/products/7', '/api/products/7', '/api/products?ids=8,9'].map(get))
      for (const answer of answers) {
        expect(answer, JSON.stringify(answer)).toMatchObject({ status: 503, cacheControl: 'no-store' })
        // The loader's own timeout ended them, not the database failing (it never answered) nor the client.
        const hardTimeout = Number(/ran past hardTimeout \((\d+) ms\)/.exec(answer.error)?.[1])
        expect(hardTimeout, answer.error).toBeGreaterThan(0)
        expect(answer.ms).toBeGreaterThanOrEqual(hardTimeout - 100)
      }
      // One query for the product its three requests asked for, one for the batch: the joiners waited on the
      // leader's load, and were freed with it.
      const stats = (await (await fetch(`${demo.url}/api/stats`)).json()) as { origin: { calls: Record<string, number> } }
      expect(stats.origin.calls).toEqual({ 'product:7': 1, 'product:8': 1, 'product:9': 1 })
    },
    BOUND_MS + 30_000,
  )
})
