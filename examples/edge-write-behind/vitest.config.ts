import { defineConfig } from 'vitest/config'

// The Worker runs in miniflare, started by the test through its Node API: the queue broker delivers the
// batches to the Worker's own queue() handler, which the vitest pool for Workers does not do.
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 60_000 } })
