import { defineConfig } from 'vitest/config'

// Tests that drive Workers from Node through the miniflare API (test/node): what the vitest pool cannot set up
// inside one worker, such as a Worker's own queue() consumer fed by the queue broker.
export default defineConfig({
  test: {
    include: ['test/node/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
  },
})
