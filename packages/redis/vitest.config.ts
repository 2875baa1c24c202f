import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // One redis-server + Upstash endpoint over it for the run (REDIS_URL, UPSTASH_TEST_URL/TOKEN); files that
    // kill servers or need a Cluster or memcached start their own.
    globalSetup: ['@tiercache/testkit/global-setup'],
    testTimeout: 15_000,
    // expect.poll waits for a condition; its default of 1 s is short for a loaded shared CI machine (a page.evaluate
    // or a server round trip can take longer). A condition that never holds still fails, after 10 s.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 30_000,
  },
})
