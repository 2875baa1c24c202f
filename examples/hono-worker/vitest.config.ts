import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The demo is installed and built once per run (test/global-setup.ts); the e2e files start it (D1 migrations,
    // wrangler) in beforeAll, one at a time, so that the load test does not share this machine's two cores with
    // another demo. The hooks outlast startDemo's wait for the URL (240 s, many times the ~10 s a start takes).
    globalSetup: ['./test/global-setup.ts'],
    fileParallelism: false,
    hookTimeout: 300_000,
    testTimeout: 20_000,
  },
})
