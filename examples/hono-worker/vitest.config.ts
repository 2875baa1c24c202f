import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The e2e files start the demo (install check, build, wrangler) in beforeAll; one at a time, so that the load
    // test does not share this machine's two cores with another demo.
    fileParallelism: false,
    hookTimeout: 120_000,
    testTimeout: 20_000,
  },
})
