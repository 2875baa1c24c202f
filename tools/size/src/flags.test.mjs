// Build flags: what an app's bundler leaves out when it defines one, and what createEdgeCache does then.
// Run by `npm test` (node --test), against the packages' dist like the budgets.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { measure } from './measure.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const monorepo = fileURLToPath(new URL('../../..', import.meta.url))
const NO_UPSTASH = { __TIERCACHE_UPSTASH__: 'false' }

/** createEdgeCache and choiceOf bundled as an app would, with `define`, imported from a temporary file. */
async function edgeBuiltWith(define) {
  const { outputFiles } = await build({
    stdin: { contents: "export { createEdgeCache, choiceOf } from '@tiercache/edge'", resolveDir: root, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    define,
    write: false,
    logLevel: 'silent',
  })
  const dir = mkdtempSync(join(tmpdir(), 'tiercache-flags-'))
  try {
    const file = join(dir, 'edge.mjs')
    writeFileSync(file, outputFiles[0]?.contents ?? '')
    return await import(pathToFileURL(file).href)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const noop = () => {}
const caches = { default: { match: async () => undefined, put: async () => {}, delete: async () => false }, open: async () => caches.default }
const kv = { get: async () => null, getWithMetadata: async () => ({ value: null, metadata: null }), put: async () => {}, delete: async () => {} }
const upstashEnv = { UPSTASH_REDIS_REST_URL: 'https://example.upstash.io', UPSTASH_REDIS_REST_TOKEN: 'token', TIERCACHE_KV: kv }

test('__TIERCACHE_UPSTASH__ false leaves every Upstash module out of the edge entry', async () => {
  const entry = { from: '@tiercache/edge', imports: ['createEdgeCache', 'withCache'], external: ['hono', 'hono/*', '@upstash/redis', 'cloudflare:*'] }
  const modules = async (define) => Object.keys((await measure({ ...entry, define }, root, { sources: monorepo })).inputs)
  const upstash = (names) => names.filter((name) => /upstash|redis-scripts|core\/src\/redis\//.test(name))
  assert.deepEqual(upstash(await modules(NO_UPSTASH)), [])
  // Without the flag they are there: the check above can fail.
  assert.ok(upstash(await modules({})).length >= 3)
})

test('built without Upstash, createEdgeCache ignores the Upstash env and refuses to be asked for it', async () => {
  const { createEdgeCache, choiceOf } = await edgeBuiltWith(NO_UPSTASH)
  const cache = createEdgeCache(upstashEnv, { caches, log: noop })
  assert.equal(choiceOf(cache)?.l2, 'kv')
  assert.equal(choiceOf(cache)?.coordinator, 'local')
  assert.throws(() => createEdgeCache(upstashEnv, { caches, log: noop, l2: 'upstash' }), { name: 'TypeError', message: /options\.l2 'upstash': this bundle was built without Upstash/ })
  assert.throws(() => createEdgeCache({ TIERCACHE_KV: kv }, { caches, log: noop, coordinator: 'upstash' }), {
    name: 'TypeError',
    message: /options\.coordinator 'upstash': this bundle was built without Upstash/,
  })
})

test('without the flag, the Upstash env is used as before', async () => {
  const { createEdgeCache } = await edgeBuiltWith({})
  // No Redis class given: the Upstash path is taken, and says what it needs.
  assert.throws(() => createEdgeCache(upstashEnv, { caches, log: noop }), { name: 'TypeError', message: /options\.Redis is required/ })
})
