import { defineConfig } from 'vitest/config'

// Tests under test/isolates run in Node and start miniflare themselves with several Workers, so that each edge
// "isolate" is a real, separate V8 isolate with production compatibility settings (the vitest pool runs every test
// of a file in one isolate, with flags of its own). They share KV, Durable Objects and an origin Worker.
export default defineConfig({
  test: {
    include: ['test/isolates/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
