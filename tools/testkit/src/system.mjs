// Finding executables and installing Debian packages for the test services.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * True when `file` exists and is executable.
 * @param {string | undefined} file
 * @returns {file is string}
 */
export function isExecutable(file) {
  if (!file) return false;
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first executable named `name` on PATH.
 * @param {string} name
 * @returns {string | undefined}
 */
export function whichSync(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * The executable `$<envVar>` names when set (undefined when that is not executable), else `find()`.
 * @param {string} envVar
 * @param {() => string | undefined} find
 * @returns {string | undefined}
 */
export function findExecutable(envVar, find) {
  const fromEnv = process.env[envVar];
  if (fromEnv) return isExecutable(fromEnv) ? fromEnv : undefined;
  return find();
}

/** Installs running now, by Debian package: concurrent callers share one apt-get. @type {Map<string, Promise<string>>} */
const installing = new Map();

/**
 * Returns `find()`'s executable, installing the Debian package `pkg` with apt-get when it is missing; rejects when
 * `$<envVar>` names a file that is not executable (no install then: the caller asked for that file).
 * @param {{ envVar: string, pkg: string, find: () => string | undefined }} what
 * @returns {Promise<string>}
 */
export function ensureExecutable({ envVar, pkg, find }) {
  const found = find();
  if (found) return Promise.resolve(found);
  if (process.env[envVar]) return Promise.reject(new Error(`${envVar}=${process.env[envVar]} is not an executable file`));
  let install = installing.get(pkg);
  if (install === undefined) {
    install = aptInstall(pkg, `${pkg} is not installed`)
      .then(() => {
        const bin = find();
        if (!bin) throw new Error(`apt-get installed ${pkg}, but no ${pkg} executable was found`);
        return bin;
      })
      .finally(() => installing.delete(pkg));
    installing.set(pkg, install);
  }
  return install;
}

/** @param {string} line */
export function log(line) {
  process.stderr.write(`[testkit] ${line}\n`);
}

/**
 * Runs a command, capturing its output.
 * @param {string} cmd
 * @param {string[]} args
 * @returns {Promise<{ code: number | null, output: string }>}
 */
function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    let output = '';
    const collect = (/** @type {Buffer} */ chunk) => {
      output = (output + chunk.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => resolve({ code: null, output: `${output}\n${err.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * `apt-get install -y <pkg>`, with `apt-get update` first only when the
 * install fails. Uses `sudo -n` when not root. Throws with apt's output when impossible.
 * @param {string} pkg  Debian package name
 * @param {string} why  what is missing, for the log line
 * @returns {Promise<void>}
 */
export async function aptInstall(pkg, why) {
  const aptGet = whichSync('apt-get');
  if (!aptGet) {
    throw new Error(`${why}, and apt-get is not available to install the Debian package "${pkg}". Install it yourself.`);
  }
  /** @type {string[]} */
  let prefix = [];
  if (process.getuid?.() !== 0) {
    const sudo = whichSync('sudo');
    if (!sudo) {
      throw new Error(`${why}; installing "${pkg}" needs root, and sudo is not available. Run: apt-get install -y ${pkg}`);
    }
    prefix = [sudo, '-n'];
  }
  // Parallel test workers may race for dpkg's lock; let apt wait for it.
  const install = ['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'install', '-y', pkg];
  const update = ['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'update'];
  const [cmd, ...args] = [...prefix, ...install];
  log(`${why}; installing it: ${[...prefix, ...install].join(' ')} (apt-get update first if that fails)`);
  let result = await run(cmd, args);
  if (result.code !== 0) {
    const [ucmd, ...uargs] = [...prefix, ...update];
    const updated = await run(ucmd, uargs);
    if (updated.code !== 0) {
      throw new Error(`apt-get update failed while installing "${pkg}":\n${updated.output.slice(-2000)}`);
    }
    result = await run(cmd, args);
  }
  if (result.code !== 0) {
    throw new Error(`apt-get install -y ${pkg} failed (exit ${result.code}):\n${result.output.slice(-2000)}`);
  }
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it for a port-0 listener).
 * @returns {Promise<number>}
 */
export function getFreePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}
