import { CHROMIUM_ARGS, findChromium } from '@tiercache/testkit'
import { playwright } from '@vitest/browser-playwright'
import { defineConfig } from 'vitest/config'

/**
 * Debian's chromium; never let playwright download a browser. When it is missing, test/global-setup.ts installs
 * it (apt-get) before any browser starts, at the path apt uses.
 */
const executablePath = findChromium() ?? '/usr/bin/chromium'

/**
 * expect.poll waits for a condition; its default of 1 s is short for a loaded shared CI machine (a page.evaluate, a
 * message between tabs or a server round trip can take longer). A condition that never holds still fails, after 10 s.
 */
const POLL = { poll: { timeout: 10_000 } }

export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    projects: [
      {
        // Fast unit tests: plain Node, IndexedDB from fake-indexeddb.
        test: {
          name: 'node',
          environment: 'node',
          expect: POLL,
          include: ['src/**/*.test.ts'],
          setupFiles: ['./test/setup-fake-indexeddb.ts'],
        },
      },
      {
        // Vitest browser mode: test files run inside real Chromium (real IndexedDB).
        // Pre-bundle page deps up front so vite never reloads the page mid-run to add one.
        optimizeDeps: { include: ['idb-keyval', 'devalue', 'msgpackr'] },
        test: {
          name: 'chromium',
          expect: POLL,
          include: ['test/chromium/**/*.browser.test.ts'],
          // Not vitest's default 5 s: in clean-clone CI runs the flush-latency test of indexeddb-store.browser.test.ts
          // took 3.1, 3.7 and 4.3 s (real IndexedDB writes of 1,000 access times, five rounds) beside other packages.
          testTimeout: 30_000,
          hookTimeout: 60_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            api: { host: '127.0.0.1' },
            provider: playwright({
              launchOptions: { executablePath, args: [...CHROMIUM_ARGS] },
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
          expect: POLL,
          include: ['test/chromium/**/*.driver.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      // The harness probes (facts about Chromium the design relies on, ~7 launches, ~18 s): `pnpm test:probes`.
      ...(process.env.TIERCACHE_PROBES === '1'
        ? [
            {
              test: {
                name: 'chromium-probes',
                environment: 'node',
                include: ['test/chromium/**/*.probe.test.ts'],
                testTimeout: 30_000,
                hookTimeout: 60_000,
              },
            },
          ]
        : []),
    ],
  },
})
