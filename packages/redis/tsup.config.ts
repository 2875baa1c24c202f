import { defineConfig } from 'tsup'

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  target: 'es2022',
  dts: true,
  clean: true,
  treeshake: true,
  // The client is the app's (a peer); core stays an import.
  external: ['@tiercache/core', 'ioredis'],
})
