import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The e2e file starts the demo once (install check, build, wrangler) in beforeAll.
    hookTimeout: 120_000,
    testTimeout: 20_000,
  },
})
