import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // redis-server + the Upstash endpoint over it, for the run (REDIS_URL, UPSTASH_TEST_URL/TOKEN).
    globalSetup: ['@tiercache/testkit/global-setup'],
    testTimeout: 30_000,
    // expect.poll waits for a condition; its default of 1 s is short for a loaded shared CI machine (a page.evaluate
    // or a server round trip can take longer). A condition that never holds still fails, after 10 s.
    expect: { poll: { timeout: 10_000 } },
    // The shared-with-the-Worker file starts the demo Worker (page build + wrangler dev) once.
    hookTimeout: 120_000,
  },
})
