import { defineConfig } from 'vitest/config'

// The test bundles the Worker and starts miniflare from Node with three copies of it (three real isolates) on one
// KV namespace and one Durable Object namespace, the bindings wrangler.jsonc declares.
export default defineConfig({ test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } })
