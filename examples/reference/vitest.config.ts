import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // The IndexedDB tier runs on fake-indexeddb under Node.
    setupFiles: ['fake-indexeddb/auto'],
  },
})
