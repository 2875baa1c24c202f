import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// The example Worker runs inside workerd with the bindings wrangler.jsonc declares (D1, KV, the Durable Object);
// @tiercache/testkit's globalSetup starts a real redis-server and an Upstash-compatible endpoint on 127.0.0.1 and
// hands their URL and token in as the Worker's Upstash variables. test/apply-migrations.ts applies migrations/ to
// the D1 database before the tests, as `pnpm dev` does.
const migrations = await readD1Migrations(new URL('./migrations', import.meta.url).pathname)

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
          TEST_MIGRATIONS: migrations,
        },
        d1Databases: ['DB'],
        kvNamespaces: ['TIERCACHE_KV'],
        durableObjects: { TIERCACHE: 'TiercacheCoordinator' },
      },
    })),
  ],
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['./test/apply-migrations.ts'],
    globalSetup: ['@tiercache/testkit/global-setup'],
    testTimeout: 15_000,
  },
})
