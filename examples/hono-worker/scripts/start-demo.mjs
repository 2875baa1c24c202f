// Starts the demo the way the README does (`node scripts/run.mjs demo` from the repository root) on a free
// loopback port, for tests, the load run and the benchmarks. Stops it, and everything it started, on request.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getFreePort } from '@tiercache/testkit'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/**
 * @typedef {object} Demo
 * @property {string} url  the URL the demo printed, e.g. http://127.0.0.1:40123
 * @property {number} startupMs  milliseconds from starting the command to the printed URL
 * @property {() => string} output  everything it wrote so far (wrangler's log and workerd's warnings included)
 * @property {() => Promise<void>} stop  stops the demo and every process it started; resolves once none is left
 */

/**
 * @typedef {object} StartDemoOptions
 * @property {number} [timeoutMs]  how long to wait for the printed URL (default 240 s: many times a start under load;
 *   with TIERCACHE_DEMO_BUILT=1, set by the e2e tests' global setup, the start skips the install and build)
 * @property {Record<string, string>} [env]  extra environment, e.g. UPSTASH_REDIS_REST_URL and _TOKEN for the Upstash L2
 * @property {string[]} [args]  extra arguments for the demo script, e.g. ['--log-level', 'warn']
 * @property {boolean} [external]  honour TIERCACHE_E2E_URL (a demo that is already running) (default true)
 */

/**
 * Runs `node scripts/run.mjs demo --port <free port> --exit-on-stdin-end` in its own process group and resolves
 * with the URL it prints. Stopping it reaches pnpm, the demo script, wrangler and workerd alike. stdin is a pipe
 * this process never writes to: if it dies without stopping the demo, the pipe ends and the demo stops itself.
 * With TIERCACHE_E2E_URL set (and `external` not false), that running demo is used instead.
 * @param {StartDemoOptions} [options]
 * @returns {Promise<Demo>}
 */
export async function startDemo({ timeoutMs = 240_000, env = {}, args = [], external = true } = {}) {
  const given = external ? process.env.TIERCACHE_E2E_URL : undefined
  if (given) return { url: given.replace(/\/$/, ''), startupMs: 0, output: () => '', stop: async () => {} }

  const port = await getFreePort()
  const started = Date.now()
  const child = spawn(process.execPath, ['scripts/run.mjs', 'demo', '--port', String(port), '--exit-on-stdin-end', ...args], {
    cwd: repoRoot,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env, HOST: '127.0.0.1', PORT: String(port) },
  })
  const pid = /** @type {number} */ (child.pid)
  let output = ''
  /** @param {NodeJS.Signals} signal */
  const kill = (signal) => {
    try {
      process.kill(-pid, signal)
    } catch {
      // the group is gone already
    }
  }
  // Last resort if this process ends without stopping it (a crash, a timeout of the whole run).
  const onExit = () => kill('SIGKILL')
  process.once('exit', onExit)

  const stop = async () => {
    kill('SIGTERM')
    if (!(await groupGone(pid, 8_000))) {
      kill('SIGKILL')
      await groupGone(pid, 3_000)
    }
    process.off('exit', onExit)
  }

  /** @param {Buffer} chunk */
  const collect = (chunk) => {
    output += chunk.toString()
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  try {
    const url = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed within ${timeoutMs / 1000} s`)), timeoutMs)
      const check = () => {
        const match = /tiercache demo: (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
        if (match !== null) {
          clearTimeout(timer)
          child.stdout.off('data', check)
          child.stderr.off('data', check)
          resolve(match[1])
        }
      }
      child.stdout.on('data', check)
      child.stderr.on('data', check)
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`the demo exited (${signal ?? `code ${code}`}) before printing its URL`))
      })
    })
    return { url: /** @type {string} */ (url), startupMs: Date.now() - started, output: () => output, stop }
  } catch (error) {
    await stop()
    throw new Error(`${/** @type {Error} */ (error).message}\n--- demo output ---\n${output}`)
  }
}

/**
 * Waits until no process of the group is left (ESRCH), up to `timeoutMs`.
 * @param {number} pid
 * @param {number} timeoutMs
 */
async function groupGone(pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      process.kill(-pid, 0)
    } catch {
      return true
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
}
