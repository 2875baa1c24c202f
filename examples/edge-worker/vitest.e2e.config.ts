import { defineConfig } from 'vitest/config'

// e2e/: `pnpm dev` itself (scripts/dev.mjs: D1 migrations, then wrangler dev) on a free loopback port, under Node.
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    hookTimeout: 150_000,
    testTimeout: 30_000,
  },
})
