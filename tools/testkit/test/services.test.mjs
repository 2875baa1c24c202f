import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from '@upstash/redis';
import { describe, expect, inject, it } from 'vitest';
import { setupServices } from '@tiercache/testkit';
import { tryConnect } from './helpers.mjs';

const ENV_KEYS = ['REDIS_URL', 'UPSTASH_TEST_URL', 'UPSTASH_TEST_TOKEN'];

/** Runs fn with the three variables replaced, restoring them afterwards. */
async function withEnv(/** @type {Record<string, string | undefined>} */ values, /** @type {() => Promise<void>} */ fn) {
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  try {
    for (const k of ENV_KEYS) {
      if (values[k] === undefined) delete process.env[k];
      else process.env[k] = values[k];
    }
    await fn();
  } finally {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
}

describe('setupServices', () => {
  it('the globalSetup provided working services', async () => {
    const redis = new Redis({ url: inject('UPSTASH_TEST_URL'), token: inject('UPSTASH_TEST_TOKEN') });
    expect(await redis.ping()).toBe('PONG');
    expect(inject('REDIS_URL')).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
  });

  it('reuses services announced in the environment, and stop() leaves them alone', async () => {
    await withEnv(
      { REDIS_URL: inject('REDIS_URL'), UPSTASH_TEST_URL: inject('UPSTASH_TEST_URL'), UPSTASH_TEST_TOKEN: inject('UPSTASH_TEST_TOKEN') },
      async () => {
        const services = await setupServices();
        expect(services.reused).toBe(true);
        expect(services.env).toEqual({
          REDIS_URL: inject('REDIS_URL'),
          UPSTASH_TEST_URL: inject('UPSTASH_TEST_URL'),
          UPSTASH_TEST_TOKEN: inject('UPSTASH_TEST_TOKEN'),
        });
        await services.stop();
        const port = Number(new URL(inject('UPSTASH_TEST_URL')).port);
        expect(await tryConnect('127.0.0.1', port)).toBe('connected');
      },
    );
  });

  it('refuses a URL without a token', async () => {
    await withEnv({ UPSTASH_TEST_URL: 'http://127.0.0.1:1' }, async () => {
      await expect(setupServices()).rejects.toThrow(/UPSTASH_TEST_TOKEN is not/);
    });
  });

  it('starts both when nothing is announced, exports the env, and stop() undoes it all', async () => {
    await withEnv({}, async () => {
      const services = await setupServices({ token: 'tok' });
      expect(services.reused).toBe(false);
      expect(process.env.UPSTASH_TEST_URL).toBe(services.env.UPSTASH_TEST_URL);
      expect(process.env.UPSTASH_TEST_TOKEN).toBe('tok');
      expect(process.env.REDIS_URL).toBe(services.env.REDIS_URL);
      const redis = new Redis({ url: services.env.UPSTASH_TEST_URL, token: 'tok' });
      expect(await redis.set('k', 'v')).toBe('OK');

      // A nested call (a child test run) reuses the same services.
      const nested = await setupServices();
      expect(nested.reused).toBe(true);
      expect(nested.env.UPSTASH_TEST_URL).toBe(services.env.UPSTASH_TEST_URL);

      await services.stop();
      expect(process.env.UPSTASH_TEST_URL).toBeUndefined();
      expect(await tryConnect('127.0.0.1', Number(new URL(services.env.UPSTASH_TEST_URL).port))).toBe('ECONNREFUSED');
      expect(await tryConnect('127.0.0.1', Number(new URL(/** @type {string} */ (services.env.REDIS_URL)).port))).toBe('ECONNREFUSED');
    });
  });
});

describe('bin/services.mjs', () => {
  it('prints the env lines then ready, serves, and stops both on SIGTERM', async () => {
    const bin = fileURLToPath(new URL('../bin/services.mjs', import.meta.url));
    const env = { ...process.env };
    delete env.UPSTASH_TEST_URL; // the CLI always starts its own, but keep the test honest
    const child = spawn(process.execPath, [bin, '--token', 'cli-token'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    /** @type {string[]} */
    const lines = [];
    for await (const line of createInterface({ input: child.stdout })) {
      lines.push(line);
      if (line === 'ready') break;
    }
    expect(lines).toHaveLength(4);
    const vars = Object.fromEntries(lines.slice(0, 3).map((l) => /** @type {[string, string]} */ (l.split(/=(.*)/s, 2))));
    expect(vars.REDIS_URL).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(vars.UPSTASH_TEST_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(vars.UPSTASH_TEST_TOKEN).toBe('cli-token');

    const redis = new Redis({ url: vars.UPSTASH_TEST_URL, token: vars.UPSTASH_TEST_TOKEN });
    expect(await redis.set('cli', { ok: true })).toBe('OK');
    expect(await redis.get('cli')).toEqual({ ok: true });

    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(await tryConnect('127.0.0.1', Number(new URL(vars.UPSTASH_TEST_URL).port))).toBe('ECONNREFUSED');
    expect(await tryConnect('127.0.0.1', Number(new URL(vars.REDIS_URL).port))).toBe('ECONNREFUSED');
  });
});
