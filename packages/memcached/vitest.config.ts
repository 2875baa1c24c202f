import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Each file starts its own memcached (testkit startMemcached, about 20 ms) and stops it.
    testTimeout: 15_000,
    hookTimeout: 30_000,
  },
})
