import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.mjs'],
    // A run takes about 10 s per target on an idle machine; retries and a loaded machine take longer.
    testTimeout: 600_000,
  },
})
