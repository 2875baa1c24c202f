import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { getFreePort } from '@tiercache/testkit'

export interface Worker {
  url: string
  output(): string
  stop(): Promise<void>
}

/**
 * Starts the demo Worker (examples/hono-worker: its own `scripts/demo.mjs`, i.e. the page build and `wrangler dev`)
 * on a free port with `env` (its Upstash credentials), and resolves with the URL it prints. It runs in its own
 * process group, stopped with it; stdin is a pipe, so that it also stops if this process dies.
 */
export async function startWorker(env: Record<string, string>, timeoutMs = 110_000): Promise<Worker> {
  const root = dirname(createRequire(import.meta.url).resolve('@tiercache/example-hono-worker/package.json'))
  const port = await getFreePort()
  const child = spawn(process.execPath, [join(root, 'scripts', 'demo.mjs'), '--port', String(port), '--exit-on-stdin-end'], {
    cwd: root,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env, HOST: '127.0.0.1' },
  })
  let output = ''
  const kill = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid as number), signal)
    } catch {
      // gone already
    }
  }
  const onExit = (): void => kill('SIGKILL')
  process.once('exit', onExit)
  const stop = async (): Promise<void> => {
    kill('SIGTERM')
    if (!(await gone(child, 8_000))) {
      kill('SIGKILL')
      await gone(child, 3_000)
    }
    process.off('exit', onExit)
  }
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed within ${timeoutMs / 1000} s`)), timeoutMs)
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        const match = /tiercache demo: (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
        if (match !== null) {
          clearTimeout(timer)
          resolve(match[1] as string)
        }
      }
      child.stdout?.on('data', onData)
      child.stderr?.on('data', onData)
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`the demo Worker exited (${signal ?? `code ${code}`}) before printing its URL`))
      })
    })
    return { url, output: () => output, stop }
  } catch (error) {
    await stop()
    throw new Error(`${(error as Error).message}\n--- demo output ---\n${output}`)
  }
}

async function gone(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      process.kill(-(child.pid as number), 0)
    } catch {
      return true
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
}
