// A real memcached on loopback, as a child process of the test run.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { ensureExecutable, findExecutable, getFreePort, isExecutable, whichSync } from './system.mjs';

/**
 * The memcached executable: `$MEMCACHED_BIN`, then PATH, then /usr/bin/memcached.
 * @returns {string | undefined}
 */
export function findMemcached() {
  return findExecutable('MEMCACHED_BIN', () => whichSync('memcached') ?? (isExecutable('/usr/bin/memcached') ? '/usr/bin/memcached' : undefined));
}

/**
 * Returns the memcached path, installing Debian's `memcached` with apt-get when it is missing.
 * (The package's service is not started: policy-rc.d or no init in containers; tests start their own.)
 * @returns {Promise<string>}
 */
export function ensureMemcached() {
  return ensureExecutable({ envVar: 'MEMCACHED_BIN', pkg: 'memcached', find: findMemcached });
}

// Same guard as redis-server.mjs: the server dies when our end of its stdin closes (stop(), or this process
// dying in any way, SIGKILL included).
const WRAPPER =
  'exec 3<&0; (read -r _ <&3; kill -TERM $$ 2>/dev/null) </dev/null >/dev/null 2>&1 & exec "$0" "$@" 3<&-';

/** Children still running, killed if this process exits without stopping them. */
const live = new Set();
let exitHookInstalled = false;

/**
 * @typedef {object} StartMemcachedOptions
 * @property {number} [port] (default: a free port picked by the OS)
 * @property {string} [bin] (default: findMemcached(), installing it if missing)
 * @property {number} [memoryMb] (default: 64)
 * @property {string[]} [args]  extra memcached arguments, e.g. ['-I', '2m'] (largest item)
 * @property {number} [readyTimeoutMs] (default: 10000)
 */

/**
 * @typedef {object} MemcachedServer
 * @property {string} address  `127.0.0.1:PORT`, as memjs takes it
 * @property {number} port
 * @property {number} pid
 * @property {() => string} logs  recent memcached output
 * @property {() => Promise<void>} stop  kills memcached and resolves once it exited (idempotent)
 */

/**
 * Starts memcached on 127.0.0.1 only (TCP, no UDP), as a child process; resolves once it answers `version`.
 * @param {StartMemcachedOptions} [options]
 * @returns {Promise<MemcachedServer>}
 * @example
 * const memcached = await startMemcached();
 * const client = memjs.Client.create(memcached.address);
 * await memcached.stop();
 */
export async function startMemcached(options = {}) {
  const bin = options.bin ?? (await ensureMemcached());
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await getFreePort());
    try {
      return await spawnMemcached(bin, port, options);
    } catch (err) {
      const inUse = /address already in use|failed to listen/i.test(String(/** @type {Error} */ (err).message));
      if (options.port !== undefined || !inUse || attempt >= 5) throw err;
    }
  }
}

/**
 * @param {string} bin
 * @param {number} port
 * @param {StartMemcachedOptions} options
 * @returns {Promise<MemcachedServer>}
 */
async function spawnMemcached(bin, port, options) {
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const args = [
    '-l', '127.0.0.1',
    '-p', String(port),
    '-U', '0',
    '-m', String(options.memoryMb ?? 64),
    // memcached refuses to run as root unless told which user to be.
    ...(process.getuid?.() === 0 ? ['-u', 'root'] : []),
    ...(options.args ?? []),
  ];
  const child = spawn('/bin/sh', ['-c', WRAPPER, bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  live.add(child);

  /** @type {string[]} */
  const lines = [];
  const logs = () => lines.join('');
  const collect = (/** @type {Buffer} */ chunk) => {
    lines.push(chunk.toString('utf8'));
    if (lines.length > 200) lines.shift();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let exited = false;
  /** @type {Promise<void>} */
  const exitedPromise = new Promise((resolve) => {
    child.once('exit', () => {
      exited = true;
      live.delete(child);
      resolve();
    });
  });

  async function stop() {
    if (!exited) {
      // The child was unref'd so that a forgotten server does not keep the process alive; while stopping it, wait.
      child.ref();
      child.kill('SIGKILL');
      child.stdin.destroy();
      await exitedPromise;
    }
  }

  // memcached prints nothing when it is ready: ask it for its version until it answers.
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) {
      throw new Error(`memcached exited before it was ready on port ${port}:\n${logs().slice(-3000)}`);
    }
    const version = await askVersion(port).catch(() => undefined);
    if (version !== undefined) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`memcached did not answer on 127.0.0.1:${port} within ${readyTimeoutMs} ms:\n${logs().slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    /** @type {any} */ (stream).unref?.();
  }
  return { address: `127.0.0.1:${port}`, port, pid: /** @type {number} */ (child.pid), logs, stop };
}

/**
 * Sends `version` over the text protocol; resolves with the version or rejects.
 * @param {number} port
 * @returns {Promise<string>}
 */
function askVersion(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer'));
    }, 1_000);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      const match = /^VERSION (\S+)\r\n/.exec(text);
      if (match) {
        clearTimeout(timer);
        socket.destroy();
        resolve(/** @type {string} */ (match[1]));
      }
    });
    socket.once('connect', () => socket.write('version\r\n'));
  });
}
