import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', hono: 'src/hono.ts' },
  format: ['esm'],
  target: 'es2022',
  dts: true,
  clean: true,
  // The package says "sideEffects": false; so does tsup's tree shaking (rollup) here, or it leaves bare
  // `import './chunk-*.js'` lines that every app's bundler then drops with an [ignored-bare-import] warning
  // (tools/size/src/bare-imports.test.mjs).
  treeshake: { moduleSideEffects: false },
  // Peers and the core package stay imports in the output.
  external: ['@tiercache/core', 'hono', '@upstash/redis'],
})
