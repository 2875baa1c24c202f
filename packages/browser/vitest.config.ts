import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'

/** Debian's chromium; never let playwright download a browser. */
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

/** Flags that keep Chromium quiet and off the network (see HARNESS.md). */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export default defineConfig({
  test: {
    projects: [
      {
        // Fast unit tests: plain Node, IndexedDB from fake-indexeddb.
        test: {
          name: 'node',
          environment: 'node',
          include: ['src/**/*.test.ts'],
          setupFiles: ['./test/setup-fake-indexeddb.ts'],
        },
      },
      {
        // Vitest browser mode: test files run inside real Chromium (real IndexedDB).
        // Pre-bundle page deps up front so vite never reloads the page mid-run to add one.
        optimizeDeps: { include: ['idb-keyval'] },
        test: {
          name: 'chromium',
          include: ['test/chromium/**/*.browser.test.ts'],
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            api: { host: '127.0.0.1' },
            provider: playwright({
              launchOptions: { executablePath, args: chromiumArgs },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        // Node-side tests that drive Chromium with playwright-core: reloads, two pages, fetch server.
        test: {
          name: 'chromium-driver',
          environment: 'node',
          include: ['test/chromium/**/*.driver.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
})
