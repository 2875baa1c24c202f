import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Drives Debian's Chromium with playwright-core: one launch for the file.
    testTimeout: 30_000,
    // expect.poll waits for a condition; its default of 1 s is short for a loaded shared CI machine (a page.evaluate
    // or a server round trip can take longer). A condition that never holds still fails, after 10 s.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 60_000,
  },
})
