// Every subpath of every package, bundled as an app's bundler would (esbuild, as wrangler and Vite use it), builds
// without the `ignored-bare-import` warning: a bare `import './chunk.js'` in a dist file of a package that says
// `"sideEffects": false` is dropped by the app's bundler, with a warning on every build of every app (tsup writes
// them for chunks it left unused unless its tree shaking is told modules have no side effects: see the tsup
// configs). Run by `npm test` (node --test), against the packages' dist like the budgets.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const packages = fileURLToPath(new URL('../../../packages', import.meta.url))

/** The JavaScript file each subpath of a package's exports map points at (exports with `default`). */
function subpathsOf(/** @type {string} */ name) {
  const manifest = JSON.parse(readFileSync(join(packages, name, 'package.json'), 'utf8'))
  return Object.entries(manifest.exports)
    .filter(([, target]) => typeof target === 'object' && typeof target.default === 'string')
    .map(([subpath, target]) => ({ subpath, file: join(packages, name, target.default), sideEffects: manifest.sideEffects }))
}

for (const name of ['core', 'browser', 'edge', 'redis', 'memcached']) {
  test(`@tiercache/${name}: no subpath makes an app's bundler ignore a bare import`, async () => {
    const found = []
    for (const { subpath, file, sideEffects } of subpathsOf(name)) {
      assert.equal(sideEffects, false, `@tiercache/${name} says sideEffects: false (the premise of this test)`)
      const { warnings } = await build({
        stdin: { contents: `export * from ${JSON.stringify(file)}`, resolveDir: packages, loader: 'js' },
        bundle: true,
        format: 'esm',
        platform: 'browser',
        write: false,
        logLevel: 'silent',
        // The peers are the app's: only tiercache's own files are followed.
        plugins: [
          {
            name: 'tiercache-only',
            setup(b) {
              b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@tiercache/') ? undefined : { path: args.path, external: true }))
            },
          },
        ],
      })
      for (const warning of warnings) {
        if (warning.id === 'ignored-bare-import') found.push(`${subpath}: ${warning.location?.file}:${warning.location?.line}: ${warning.text}`)
      }
    }
    assert.deepEqual(found, [])
  })
}
