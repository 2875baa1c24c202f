import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.mjs'],
    // One redis-server + Upstash endpoint for the run; files that flush or inject faults start their own.
    globalSetup: ['./src/global-setup.mjs'],
    testTimeout: 10_000,
  },
});
