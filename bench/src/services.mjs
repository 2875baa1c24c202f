// redis-server + the Upstash-compatible endpoint of @tiercache/testkit, in a child process of their own (its
// `bin/services.mjs`), so the endpoint's event loop does not share a thread with the load generator. Both bind
// 127.0.0.1. The child stops them when its stdin ends, so they also go when this process dies.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)

/**
 * @typedef {object} UpstashCounters
 * @property {number} requests                  HTTP requests to the Redis API (not /__testkit/*)
 * @property {number} commands
 * @property {Record<string, number>} byCommand
 * @property {number} faulted
 */

/**
 * @typedef {object} Services
 * @property {string} redisUrl
 * @property {string} upstashUrl
 * @property {string} token
 * @property {() => Promise<UpstashCounters>} stats   the endpoint's counters (GET /__testkit/stats)
 * @property {() => Promise<void>} reset               zero them (POST /__testkit/reset)
 * @property {() => Promise<void>} stop                idempotent
 */

/**
 * Starts the pair and resolves once the child printed `ready`.
 * @param {{ timeoutMs?: number }} [options]
 * @returns {Promise<Services>}
 */
export async function startServices({ timeoutMs = 20_000 } = {}) {
  const bin = join(dirname(require.resolve('@tiercache/testkit/package.json')), 'bin', 'services.mjs')
  const child = spawn(process.execPath, [bin, '--exit-on-stdin-end'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000)
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))

  /** @type {Record<string, string>} */
  const env = await new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => fail(new Error(`testkit services not ready within ${timeoutMs} ms`)), timeoutMs)
    const fail = (/** @type {Error} */ error) => {
      clearTimeout(timer)
      child.kill('SIGTERM')
      reject(new Error(`${error.message}\n${stderr.trim()}`))
    }
    const early = (/** @type {number | null} */ code) => fail(new Error(`testkit services exited with code ${code} before ready`))
    child.once('exit', early)
    child.stdout.on('data', (chunk) => {
      out += chunk
      if (!/^ready$/m.test(out)) return
      clearTimeout(timer)
      child.off('exit', early)
      resolve(Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])))
    })
  })
  const upstashUrl = env.UPSTASH_TEST_URL ?? ''
  const token = env.UPSTASH_TEST_TOKEN ?? ''
  const auth = { authorization: `Bearer ${token}` }
  let stopped = false
  return {
    redisUrl: env.REDIS_URL ?? '',
    upstashUrl,
    token,
    async stats() {
      const res = await fetch(`${upstashUrl}/__testkit/stats`, { headers: auth })
      if (!res.ok) throw new Error(`GET /__testkit/stats: ${res.status}`)
      return /** @type {Promise<UpstashCounters>} */ (res.json())
    },
    async reset() {
      const res = await fetch(`${upstashUrl}/__testkit/reset`, { method: 'POST', headers: auth })
      await res.arrayBuffer()
      if (!res.ok) throw new Error(`POST /__testkit/reset: ${res.status}`)
    },
    async stop() {
      if (stopped) return
      stopped = true
      child.stdin.end()
      const timer = setTimeout(() => child.kill('SIGTERM'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}
