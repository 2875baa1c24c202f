// The suite's test server (http-cache-tests/server/server.mjs), as its own process bound to 127.0.0.1.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getFreePort } from '@tiercache/testkit'
import { SUITE_DIR } from './suite.mjs'

const PRELOAD = fileURLToPath(new URL('./bind-loopback.mjs', import.meta.url))

/**
 * Starts the suite's server on a free loopback port. It serves files from its working directory besides the test
 * endpoints, so it runs in an empty temporary one.
 * @returns {Promise<{ url: string, pid: number, stop(): Promise<void> }>}
 */
export async function startOriginServer() {
  const port = await getFreePort()
  const dir = mkdtempSync(join(tmpdir(), 'tiercache-conformance-'))
  const child = spawn(process.execPath, ['--import', PRELOAD, join(SUITE_DIR, 'server', 'server.mjs')], {
    cwd: dir,
    env: { ...process.env, npm_config_protocol: 'http', npm_config_port: String(port), npm_config_pidfile: join(dir, 'server.pid') },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the suite's server did not start in 20 s:\n${output}`)), 20_000)
      const onData = (/** @type {Buffer} */ chunk) => {
        output = (output + chunk.toString('utf8')).slice(-4000)
        const listening = /Listening on http:\/\/([^/]+)\//.exec(output)
        if (listening === null) return
        clearTimeout(timer)
        if (listening[1] !== `127.0.0.1:${port}`) reject(new Error(`the suite's server listens on ${listening[1]}, not 127.0.0.1:${port}`))
        else resolve(undefined)
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`the suite's server exited (${code}):\n${output}`))
      })
    })
  } catch (error) {
    await stop()
    throw error
  }
  // From here on its log (warnings about unknown URLs) is not needed; keep draining it.
  if (process.env.TIERCACHE_CONFORMANCE_TRACE) child.once('exit', (code, signal) => process.stderr.write(`[conformance] suite server exited ${code ?? signal}: ${output.slice(-1500)}\n`))
  child.stdout.removeAllListeners('data')
  child.stderr.removeAllListeners('data')
  const tail = (/** @type {Buffer} */ chunk) => {
    output = (output + chunk.toString('utf8')).slice(-4000)
  }
  child.stdout.on('data', tail)
  child.stderr.on('data', tail)
  return { url: `http://127.0.0.1:${port}`, pid: /** @type {number} */ (child.pid), stop }
}
