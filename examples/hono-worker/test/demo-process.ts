import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getFreePort } from '@tiercache/testkit'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

export interface Demo {
  /** The URL the demo printed, e.g. http://127.0.0.1:40123 */
  url: string
  /** Milliseconds from starting the command to the printed URL. */
  startupMs: number
  /** Everything it wrote so far (for failure messages). */
  output(): string
  /** Stops the demo and every process it started (wrangler, workerd); resolves once none is left. */
  stop(): Promise<void>
}

/**
 * Runs the README's demo command, `node scripts/run.mjs demo`, from the repository root on a free port, and
 * resolves with the URL it prints. The command runs in its own process group, so that stopping it reaches
 * pnpm, the demo script, wrangler and workerd alike, even if one of them does not pass signals on.
 * Set TIERCACHE_E2E_URL to test a demo that is already running instead.
 */
export async function startDemo({ timeoutMs = 110_000 } = {}): Promise<Demo> {
  const external = process.env.TIERCACHE_E2E_URL
  if (external) return { url: external.replace(/\/$/, ''), startupMs: 0, output: () => '', stop: async () => {} }

  const port = await getFreePort()
  const started = Date.now()
  // stdin is a pipe this process never writes to: if it dies without stopping the demo (a killed test
  // worker runs no exit handler), the pipe ends and --exit-on-stdin-end stops the demo.
  const child = spawn(process.execPath, ['scripts/run.mjs', 'demo', '--port', String(port), '--exit-on-stdin-end'], {
    cwd: repoRoot,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) },
  })
  let output = ''
  const kill = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid as number), signal)
    } catch {
      // the group is gone already
    }
  }
  // Last resort if this process ends without afterAll (a crash, a timeout of the whole run).
  const onExit = (): void => kill('SIGKILL')
  process.once('exit', onExit)

  const stop = async (): Promise<void> => {
    kill('SIGTERM')
    if (!(await groupGone(child, 8_000))) {
      kill('SIGKILL')
      await groupGone(child, 3_000)
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
        reject(new Error(`the demo exited (${signal ?? `code ${code}`}) before printing its URL`))
      })
    })
    return { url, startupMs: Date.now() - started, output: () => output, stop }
  } catch (error) {
    await stop()
    throw new Error(`${(error as Error).message}\n--- demo output ---\n${output}`)
  }
}

/** Waits until no process of the child's group is left (ESRCH), up to `timeoutMs`. */
async function groupGone(child: ChildProcess, timeoutMs: number): Promise<boolean> {
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
