import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // redis-server + the Upstash endpoint over it, for the run (REDIS_URL, UPSTASH_TEST_URL/TOKEN).
    globalSetup: ['@tiercache/testkit/global-setup'],
    testTimeout: 30_000,
    // The shared-with-the-Worker file starts the demo Worker (page build + wrangler dev) once.
    hookTimeout: 120_000,
  },
})
