import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureMemcached, findMemcached, startMemcached } from '@tiercache/testkit';
import { externalIPv4, tryConnect } from './helpers.mjs';

/**
 * One text-protocol exchange: writes `command`, resolves with what came back once it ends with `until`.
 * @param {number} port @param {string} command @param {RegExp} until
 * @returns {Promise<string>}
 */
function exchange(port, command, until) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    socket.once('error', reject);
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      if (until.test(text)) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.once('connect', () => socket.write(command));
  });
}

describe('findMemcached / ensureMemcached', () => {
  it('finds an executable memcached, and ensure returns it without installing', async () => {
    const bin = findMemcached();
    expect(bin).toMatch(/memcached$/);
    await expect(ensureMemcached()).resolves.toBe(bin);
  });

  it('honours MEMCACHED_BIN, and reports a bad one', async () => {
    const saved = process.env.MEMCACHED_BIN;
    try {
      process.env.MEMCACHED_BIN = '/nonexistent/memcached';
      expect(findMemcached()).toBeUndefined();
      await expect(ensureMemcached()).rejects.toThrow(/MEMCACHED_BIN=.*not an executable/);
    } finally {
      if (saved === undefined) delete process.env.MEMCACHED_BIN;
      else process.env.MEMCACHED_BIN = saved;
    }
  });
});

describe('startMemcached', () => {
  /** @type {Awaited<ReturnType<typeof startMemcached>>} */
  let memcached;
  beforeAll(async () => {
    memcached = await startMemcached();
  });
  afterAll(async () => {
    await memcached?.stop();
  });

  it('stores and returns a value over the text protocol', async () => {
    expect(memcached.address).toBe(`127.0.0.1:${memcached.port}`);
    expect(await exchange(memcached.port, 'set testkit 0 0 2\r\nok\r\n', /\r\n$/)).toBe('STORED\r\n');
    expect(await exchange(memcached.port, 'get testkit\r\n', /END\r\n$/)).toBe('VALUE testkit 0 2\r\nok\r\nEND\r\n');
  });

  it('listens on loopback only', async () => {
    const external = externalIPv4();
    if (external === undefined) return;
    expect(await tryConnect(external, memcached.port)).not.toBe('connected');
  });

  it('stop() kills it: the port refuses connections, and a second stop resolves', async () => {
    const own = await startMemcached();
    expect(await tryConnect('127.0.0.1', own.port)).toBe('connected');
    await own.stop();
    expect(await tryConnect('127.0.0.1', own.port)).toBe('ECONNREFUSED');
    await expect(own.stop()).resolves.toBeUndefined();
  });
});
