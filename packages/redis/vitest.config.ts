import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One redis-server + Upstash endpoint over it for the run (REDIS_URL, UPSTASH_TEST_URL/TOKEN); files that
    // kill servers or need a Cluster or memcached start their own.
    globalSetup: ['@tiercache/testkit/global-setup'],
    testTimeout: 15_000,
    hookTimeout: 30_000,
  },
})
