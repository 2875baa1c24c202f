// The shared-cache target: proxy-worker.mjs in workerd (miniflare) on 127.0.0.1, in front of the suite's server.
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'

const here = dirname(fileURLToPath(import.meta.url))

/** @param {string} origin */
export async function start(origin) {
  const bundle = await build({
    entryPoints: [`${here}/proxy-worker.mjs`],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser', 'import'],
    mainFields: ['module', 'main'],
    logLevel: 'silent',
  })
  const mf = new Miniflare({
    // workerd logs what it rejects from the suite (invalid Transfer-Encoding values, status 999): expected noise.
    handleRuntimeStdio(stdout, stderr) {
      stdout.resume()
      stderr.resume()
    },
    host: '127.0.0.1',
    port: 0,
    modules: true,
    script: /** @type {{ text: string }} */ (bundle.outputFiles[0]).text,
    compatibilityDate: '2026-04-01',
    bindings: { ORIGIN: origin },
  })
  const url = await mf.ready
  if (url.hostname !== '127.0.0.1') throw new Error(`miniflare listens on ${url.hostname}, expected 127.0.0.1`)
  const baseUrl = url.origin
  const mode = await (await fetch(`${baseUrl}/__conformance/mode`)).text()
  return {
    fetch: globalThis.fetch,
    baseUrl,
    describe: `withCache(proxy, { cache: createEdgeCache(env) (Cache API L1 + in-memory L2), policy: ${mode} }) in workerd (miniflare)`,
    stop: () => mf.dispose(),
  }
}
