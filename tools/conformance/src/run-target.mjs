// One run of the suite against one target, in a process of its own (the suite's runner keeps its results in module
// state). Usage: node run-target.mjs <private|shared> <origin URL> <output file> [test ids, comma-separated]
import { writeFileSync } from 'node:fs'
import { loadSuites, suiteUrl } from './suite.mjs'

const [target, origin, out, only] = process.argv.slice(2)
if ((target !== 'private' && target !== 'shared') || origin === undefined || out === undefined) {
  throw new TypeError('usage: run-target.mjs <private|shared> <origin URL> <output file>')
}

// The suite's client needs a fetch as current as undici 7's (Node 20's own is older); the private cache runs on the
// same globals, as it would on a page.
const undici = await import('undici')
// No keep-alive (pipelining 0): on a loaded machine the server closing idle connections (after 5 s, by its timer)
// while the client sends on them failed tests in bursts ('other side closed') for reasons unrelated to caching.
undici.setGlobalDispatcher(new undici.Agent({ pipelining: 0 }))
Object.assign(globalThis, { fetch: undici.fetch, Request: undici.Request, Response: undici.Response, Headers: undici.Headers, FormData: undici.FormData })

const started = Date.now()
const { runTests, getResults } = await import(suiteUrl('client/runner.mjs'))
const setup = target === 'private' ? await import('./private-cache.mjs') : await import('./workerd-proxy.mjs')
const subject = await setup.start(origin)
try {
  // All tests at once: each pauses at most once (3 s, the suite's own wait), so the run takes a few seconds.
  const ids = only === undefined ? undefined : new Set(only.split(','))
  const suites = (await loadSuites(target)).map((suite) => ({ ...suite, tests: suite.tests.filter((t) => ids === undefined || ids.has(t.id)) }))
  /** @type {typeof fetch} */
  const traced = (url, init) =>
    subject.fetch(url, init).catch((/** @type {any} */ error) => {
      if (process.env.TIERCACHE_CONFORMANCE_TRACE) process.stderr.write(`${Date.now() - started} ms ${String(url)} ${error} ${error?.cause?.message ?? ''}\n`)
      throw error
    })
  await runTests(suites, traced, target === 'private', subject.baseUrl, 1000)
} finally {
  await subject.stop()
}
writeFileSync(out, JSON.stringify({ target, describe: subject.describe, ms: Date.now() - started, results: getResults() }))
