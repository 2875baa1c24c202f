import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// The example Worker runs inside workerd; @tiercache/testkit's globalSetup starts a real redis-server and an
// Upstash-compatible endpoint on 127.0.0.1 and hands their URL and token in as the Worker's Upstash variables.
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      main: './src/index.ts',
      miniflare: {
        compatibilityDate: '2026-04-01',
        compatibilityFlags: [],
        bindings: {
          UPSTASH_REDIS_REST_URL: inject('UPSTASH_TEST_URL'),
          UPSTASH_REDIS_REST_TOKEN: inject('UPSTASH_TEST_TOKEN'),
        },
      },
    })),
  ],
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['@tiercache/testkit/global-setup'],
    testTimeout: 15_000,
  },
})
