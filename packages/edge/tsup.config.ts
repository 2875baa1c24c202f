import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts', hono: 'src/hono.ts' },
  format: ['esm'],
  target: 'es2022',
  dts: true,
  clean: true,
  treeshake: true,
  // Peers and the core package stay imports in the output.
  external: ['@tiercache/core', 'hono', '@upstash/redis'],
})
