// Debian's chromium for playwright-core (which downloads no browser here).
import { ensureExecutable, findExecutable, isExecutable, whichSync } from './system.mjs';

/**
 * Flags that keep headless Chromium quiet and offline on a CI box. The
 * profile directory is playwright's first argument to launchPersistentContext:
 * `--user-data-dir` in args is rejected.
 */
export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]);

/**
 * The Chromium executable: `$CHROMIUM_PATH`, /usr/bin/chromium, /usr/bin/chromium-browser, then PATH.
 * @returns {string | undefined}
 */
export function findChromium() {
  return findExecutable('CHROMIUM_PATH', () => {
    for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
      if (isExecutable(candidate)) return candidate;
    }
    return whichSync('chromium') ?? whichSync('chromium-browser');
  });
}

/**
 * Returns the Chromium path, installing Debian's `chromium` with apt-get when it is missing.
 * @returns {Promise<string>}
 * @example
 * const executablePath = await ensureChromium();
 */
export function ensureChromium() {
  return ensureExecutable({ envVar: 'CHROMIUM_PATH', pkg: 'chromium', find: findChromium });
}

/**
 * @typedef {object} ChromiumLaunchOptionsInput
 * @property {string} [executablePath] (default: findChromium())
 * @property {boolean} [headless] (default: true)
 * @property {string[]} [args]  extra flags, appended to CHROMIUM_ARGS
 */

/**
 * Options for playwright-core's `chromium.launch()` / `launchPersistentContext(dir, options)`
 * and for `@vitest/browser-playwright`'s `launchOptions`.
 * Throws when no Chromium is found: call `await ensureChromium()` first.
 * @param {ChromiumLaunchOptionsInput} [options]
 * @returns {{ executablePath: string, headless: boolean, args: string[] }}
 * @example
 * import { chromium } from 'playwright-core';
 * await ensureChromium();
 * const browser = await chromium.launch(chromiumLaunchOptions());
 */
export function chromiumLaunchOptions(options = {}) {
  const executablePath = options.executablePath ?? findChromium();
  if (!executablePath) {
    throw new Error(
      'Chromium not found (looked at $CHROMIUM_PATH, /usr/bin/chromium, /usr/bin/chromium-browser, PATH). ' +
        'Call `await ensureChromium()` first, or run: apt-get install -y chromium',
    );
  }
  return {
    executablePath,
    headless: options.headless ?? true,
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
  };
}
