import type { Plugin } from 'esbuild'
import { defineConfig } from 'tsup'

const shared = {
  format: ['esm' as const],
  target: 'es2022',
  platform: 'browser' as const,
  dts: true,
  // Both builds write into dist: `npm run build` empties it first.
  clean: false,
  // The package says "sideEffects": false; so does tsup's tree shaking (rollup) here, or it leaves bare
  // `import './chunk-*.js'` lines that every app's bundler then drops with an [ignored-bare-import] warning
  // (tools/size/src/bare-imports.test.mjs).
  treeshake: { moduleSideEffects: false },
}

/**
 * The adapters import the cache, cached fetch and notifications through the main entry, `@tiercache/browser`: an app
 * then bundles one copy of them, and the main entry stays one file, exactly what it is without the adapters.
 */
const throughMainEntry: Plugin = {
  name: 'adapters-import-the-main-entry',
  setup(build) {
    build.onResolve({ filter: /^\.\/(updates|cached-fetch)\.js$/ }, () => ({ path: '@tiercache/browser', external: true }))
  },
}

export default defineConfig([
  {
    ...shared,
    entry: { index: 'src/index.ts' },
    external: ['@tiercache/core', 'idb-keyval'],
  },
  {
    ...shared,
    entry: { 'tanstack-query': 'src/tanstack-query.ts', swr: 'src/swr.ts', react: 'src/react.ts' },
    // The adapters' peers stay the app's: never bundled.
    external: ['@tiercache/core', '@tiercache/browser', 'react', 'swr', /^@tanstack\//],
    esbuildPlugins: [throughMainEntry],
  },
])
