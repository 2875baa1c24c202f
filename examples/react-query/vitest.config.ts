import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Drives Debian's Chromium with playwright-core: one launch for the file.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
