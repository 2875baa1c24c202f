import { afterEach, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumLaunchOptions, ensureChromium, findChromium } from '@tiercache/testkit';

const saved = process.env.CHROMIUM_PATH;
afterEach(() => {
  if (saved === undefined) delete process.env.CHROMIUM_PATH;
  else process.env.CHROMIUM_PATH = saved;
});

describe('chromium helpers', () => {
  it('CHROMIUM_PATH wins when it is executable', () => {
    process.env.CHROMIUM_PATH = process.execPath; // any executable stands in
    expect(findChromium()).toBe(process.execPath);
  });

  it('a CHROMIUM_PATH that is not executable means not found, and ensure says why', async () => {
    process.env.CHROMIUM_PATH = '/nonexistent/chromium';
    expect(findChromium()).toBeUndefined();
    await expect(ensureChromium()).rejects.toThrow(/CHROMIUM_PATH=.*not an executable/);
    expect(() => chromiumLaunchOptions()).toThrow(/Chromium not found.*ensureChromium/);
  });

  it('launch options carry the CI flags, headless, and no --user-data-dir', () => {
    process.env.CHROMIUM_PATH = process.execPath;
    const options = chromiumLaunchOptions({ args: ['--lang=en-US'] });
    expect(options).toEqual({
      executablePath: process.execPath,
      headless: true,
      args: [...CHROMIUM_ARGS, '--lang=en-US'],
    });
    expect(options.args).toEqual(expect.arrayContaining(['--no-sandbox', '--disable-gpu', '--disable-quic']));
    expect(options.args.some((a) => a.startsWith('--user-data-dir'))).toBe(false);
    expect(chromiumLaunchOptions({ executablePath: '/x/chrome', headless: false })).toMatchObject({
      executablePath: '/x/chrome',
      headless: false,
    });
  });
});
