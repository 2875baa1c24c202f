import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // redis-server on 127.0.0.1 for the run (REDIS_URL).
    globalSetup: ['@tiercache/testkit/global-setup'],
    testTimeout: 30_000,
  },
})
