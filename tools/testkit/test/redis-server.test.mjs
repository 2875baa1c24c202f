import { spawn } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRedisServer, findRedisServer, getFreePort, startRedis } from '@tiercache/testkit';
import { RespConnection } from '../src/resp.mjs';
import { externalIPv4, tryConnect } from './helpers.mjs';

describe('findRedisServer / ensureRedisServer', () => {
  it('finds an executable redis-server, and ensure returns it without installing', async () => {
    const bin = findRedisServer();
    expect(bin).toMatch(/redis-server$/);
    await expect(ensureRedisServer()).resolves.toBe(bin);
  });

  it('honours REDIS_SERVER_BIN, and reports a bad one', async () => {
    const saved = process.env.REDIS_SERVER_BIN;
    try {
      process.env.REDIS_SERVER_BIN = '/nonexistent/redis-server';
      expect(findRedisServer()).toBeUndefined();
      await expect(ensureRedisServer()).rejects.toThrow(/REDIS_SERVER_BIN=.*not an executable/);
    } finally {
      if (saved === undefined) delete process.env.REDIS_SERVER_BIN;
      else process.env.REDIS_SERVER_BIN = saved;
    }
  });
});

describe('startRedis', () => {
  /** @type {Awaited<ReturnType<typeof startRedis>>} */
  let redis;
  /** @type {RespConnection} */
  let conn;
  beforeAll(async () => {
    redis = await startRedis();
    conn = await RespConnection.connect({ port: redis.port });
  });
  afterAll(async () => {
    conn?.close();
    await redis?.stop();
  });

  it('answers on redis://127.0.0.1:PORT with persistence off', async () => {
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    const [pong, save, aof, bind, daemonize] = await conn.send([
      ['PING'],
      ['CONFIG', 'GET', 'save'],
      ['CONFIG', 'GET', 'appendonly'],
      ['CONFIG', 'GET', 'bind'],
      ['CONFIG', 'GET', 'daemonize'],
    ]);
    expect(pong).toBe('PONG');
    expect(String(/** @type {Buffer[]} */ (save)[1])).toBe('');
    expect(String(/** @type {Buffer[]} */ (aof)[1])).toBe('no');
    expect(String(/** @type {Buffer[]} */ (bind)[1])).toBe('127.0.0.1');
    expect(String(/** @type {Buffer[]} */ (daemonize)[1])).toBe('no');
  });

  it('is not reachable on a non-loopback address', async (ctx) => {
    const ip = externalIPv4();
    if (!ip) ctx.skip();
    expect(await tryConnect(/** @type {string} */ (ip), redis.port)).toBe('ECONNREFUSED');
    expect(await tryConnect('127.0.0.1', redis.port)).toBe('connected');
  });

  it('round-trips binary values', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 13, 10, 0x80]);
    const [, got] = await conn.send([['SET', 'bin', bytes], ['GET', 'bin']]);
    expect(Buffer.compare(/** @type {Buffer} */ (got), bytes)).toBe(0);
  });
});

describe('stopping', () => {
  it('stop() kills the process and frees the port', async () => {
    const redis = await startRedis();
    expect(await tryConnect('127.0.0.1', redis.port)).toBe('connected');
    await redis.stop();
    expect(() => process.kill(redis.pid, 0)).toThrow(/ESRCH/);
    expect(await tryConnect('127.0.0.1', redis.port)).toBe('ECONNREFUSED');
    await redis.stop(); // idempotent
  });

  it('uses the port it is given', async () => {
    const port = await getFreePort();
    const redis = await startRedis({ port });
    try {
      expect(redis.port).toBe(port);
      await expect(startRedis({ port, readyTimeoutMs: 3000 })).rejects.toThrow(/exited before it was ready/);
    } finally {
      await redis.stop();
    }
  });

  it('dies with its parent process, even on SIGKILL', async () => {
    const script = `
      import { startRedis } from ${JSON.stringify(new URL('../src/index.mjs', import.meta.url).href)};
      const r = await startRedis();
      process.stdout.write(r.port + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise((resolve, reject) => {
      child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
      child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    // Wait on an event, not a clock: redis closes our connection when it goes away.
    const socket = net.createConnection({ host: '127.0.0.1', port });
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => {});
    child.kill('SIGKILL');
    await closed;
    expect(await tryConnect('127.0.0.1', port)).toBe('ECONNREFUSED');
  });
});
