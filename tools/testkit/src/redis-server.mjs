// A real redis-server on loopback, as a child process of the test run.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RespConnection } from './resp.mjs';
import { ensureExecutable, findExecutable, getFreePort, isExecutable, whichSync } from './system.mjs';

/**
 * The redis-server executable: `$REDIS_SERVER_BIN`, then PATH, then /usr/bin/redis-server.
 * @returns {string | undefined}
 */
export function findRedisServer() {
  return findExecutable('REDIS_SERVER_BIN', () => whichSync('redis-server') ?? (isExecutable('/usr/bin/redis-server') ? '/usr/bin/redis-server' : undefined));
}

/**
 * Returns the redis-server path, installing Debian's `redis-server` with apt-get when it is missing.
 * @returns {Promise<string>}
 * @example
 * const bin = await ensureRedisServer(); // '/usr/bin/redis-server'
 */
export function ensureRedisServer() {
  return ensureExecutable({ envVar: 'REDIS_SERVER_BIN', pkg: 'redis-server', find: findRedisServer });
}

/** Children still running, killed if this process exits without stopping them. */
const live = new Set();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

// The shell stays only long enough to start a watcher on its stdin, then
// becomes redis-server (same pid). The watcher TERMs redis when stdin reaches
// EOF, which happens when we stop() it or when this process dies in any way,
// SIGKILL included, so no redis outlives its test run.
const WRAPPER =
  'exec 3<&0; (read -r _ <&3; kill -TERM $$ 2>/dev/null) </dev/null >/dev/null 2>&1 & exec "$0" "$@" 3<&-';

/**
 * @typedef {object} StartRedisOptions
 * @property {number} [port] (default: a free port picked by the OS)
 * @property {string} [bin] (default: findRedisServer(), installing it if missing)
 * @property {string[]} [args]  extra redis-server arguments, e.g. ['--maxmemory', '10mb']
 * @property {number} [readyTimeoutMs] (default: 10000)
 */

/**
 * @typedef {object} RedisServer
 * @property {string} url  `redis://127.0.0.1:PORT`
 * @property {number} port
 * @property {number} pid
 * @property {() => string} logs  recent redis-server output
 * @property {() => Promise<void>} stop  kills redis-server and resolves once it exited
 */

/**
 * Starts redis-server bound to 127.0.0.1 only, without persistence, as a
 * child process; resolves once it answers PING.
 * @param {StartRedisOptions} [options]
 * @returns {Promise<RedisServer>}
 * @example
 * const redis = await startRedis();
 * // ... use redis.url ...
 * await redis.stop();
 */
export async function startRedis(options = {}) {
  const bin = options.bin ?? (await ensureRedisServer());
  // A port picked by the OS may be taken again before redis binds it: retry with a new one.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await getFreePort());
    try {
      return await spawnRedis(bin, port, options);
    } catch (err) {
      const inUse = /address already in use/i.test(String(/** @type {Error} */ (err).message));
      if (options.port !== undefined || !inUse || attempt >= 5) throw err;
    }
  }
}

/**
 * @param {string} bin
 * @param {number} port
 * @param {StartRedisOptions} options
 * @returns {Promise<RedisServer>}
 */
async function spawnRedis(bin, port, options) {
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tiercache-redis-'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'yes',
    '--save', '',
    '--appendonly', 'no',
    '--daemonize', 'no',
    '--dir', dir,
    '--logfile', '',
    ...(options.args ?? []),
  ];
  const child = spawn('/bin/sh', ['-c', WRAPPER, bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  installExitHook();
  live.add(child);

  /** @type {string[]} */
  const lines = [];
  const logs = () => lines.join('\n');
  let exited = false;
  /** @type {Promise<void>} */
  const exitedPromise = new Promise((resolve) => {
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      rmSync(dir, { recursive: true, force: true });
      resolve();
    });
  });

  const ready = new Promise((resolve, reject) => {
    let partial = '';
    const onOutput = (/** @type {Buffer} */ chunk) => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (lines.length > 200) lines.shift();
        if (line.includes('Ready to accept connections')) resolve(undefined);
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.once('error', (err) => reject(new Error(`could not spawn ${bin}: ${err.message}`, { cause: err })));
    child.once('exit', (code, signal) => {
      reject(new Error(`redis-server exited before it was ready (code ${code}, signal ${signal}) on port ${port}:\n${logs().slice(-3000)}`));
    });
  });

  ready.catch(() => {}); // observed through the race below; a late exit must not be unhandled

  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`redis-server did not become ready on 127.0.0.1:${port} within ${readyTimeoutMs} ms:\n${logs().slice(-3000)}`)),
      readyTimeoutMs,
    );
  });

  async function stop() {
    if (!exited) {
      // Nothing to save (no RDB, no AOF), and SIGTERM waits for redis' next
      // cron tick (up to 100 ms): SIGKILL stops it at once.
      // The child was unref'd so that a forgotten server does not keep the process alive; while stopping it, wait.
      child.ref();
      child.kill('SIGKILL');
      child.stdin.destroy();
      await exitedPromise;
    }
  }

  try {
    await Promise.race([ready, timeout]);
    // "Ready" is logged once the listener is up; PING proves it answers.
    const conn = await RespConnection.connect({ port, connectTimeoutMs: readyTimeoutMs });
    try {
      const [pong] = await Promise.race([conn.send([['PING']]), timeout]);
      if (pong !== 'PONG') throw new Error(`redis-server answered PING with ${String(pong)}`);
    } finally {
      conn.close();
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }

  // Do not keep the event loop alive for a server nobody stopped; the exit hook and the stdin watcher kill it.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    /** @type {any} */ (stream).unref?.();
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: /** @type {number} */ (child.pid),
    logs,
    stop,
  };
}
