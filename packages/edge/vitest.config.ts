import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// Tests under test/workerd run INSIDE workerd (miniflare 4.20260426.0) through
// @cloudflare/vitest-pool-workers 0.15.1, which is configured as a Vite plugin
// (the 0.13+ API; `defineWorkersConfig` / `poolOptions.workers` are gone).
// test/global-setup.ts runs in Node first (shared redis-server + Upstash
// endpoint from @tiercache/testkit, and a control endpoint for per-file pairs);
// its `provide`d values reach the runner both via `inject()` and, through the
// options function below, as bindings. See test/HARNESS.md.
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      // Optional `main`: gives tests `SELF` / `exports.default` from cloudflare:workers.
      main: './test/fixtures/probe-worker.ts',
      miniflare: {
        // Must not be later than this workerd's own date (1.20260426.x); the pool
        // would otherwise default to today's date. No compatibility flags of ours:
        // the pool itself adds nodejs_compat_v2 + node module flags for its runner.
        compatibilityDate: '2026-04-01',
        compatibilityFlags: [],
        bindings: {
          UPSTASH_REDIS_REST_URL: inject('UPSTASH_TEST_URL'),
          UPSTASH_REDIS_REST_TOKEN: inject('UPSTASH_TEST_TOKEN'),
        },
        // Workers KV and Durable Objects, miniflare's real implementations (test/platform-env.d.ts types them).
        kvNamespaces: ['TEST_KV'],
        durableObjects: { TIERCACHE: 'TiercacheCoordinator' },
      },
    })),
  ],
  test: {
    include: ['test/workerd/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 15_000,
  },
})
