// `pnpm dev` as a user runs it (scripts/dev.mjs: the D1 migrations applied locally, then wrangler dev), on a free
// loopback port with its state in a fresh directory: the products come from the seeded D1 table, and the tiers
// from the bindings wrangler.jsonc declares (KV + the Durable Object, no credentials).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getFreePort } from '@tiercache/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const here = join(dirname(fileURLToPath(import.meta.url)), '..')
let child: ChildProcess
let url: string
let output = ''
const state = mkdtempSync(join(tmpdir(), 'edge-worker-e2e-'))

function stopGroup(signal: NodeJS.Signals): void {
  try {
    if (child?.pid !== undefined) process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

beforeAll(async () => {
  const port = await getFreePort()
  // The origin delay stays off here: what is measured is which tier answered, not how long the database took.
  // The devtools inspector gets a free loopback port too: wrangler's default (the first free one from 9229) races
  // with any other wrangler dev starting at the same moment (the demo's tests, in another package), and one of them
  // fails with 'Address already in use'.
  const inspector = ['--inspector-ip', '127.0.0.1', '--inspector-port', String(await getFreePort())]
  child = spawn(process.execPath, ['scripts/dev.mjs', '--port', String(port), ...inspector, '--persist-to', state, '--var', 'ORIGIN_DELAY_MS:0'], {
    cwd: here,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  url = `http://127.0.0.1:${port}`
  // Ready when it answers (wrangler's own "Ready on" line comes a little before the Worker does).
  const deadline = Date.now() + 140_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pnpm dev exited (${child.exitCode}) before serving\n${output}`)
    try {
      if ((await fetch(`${url}/tiers`)).ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`pnpm dev did not serve ${url} within 140 s\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
})

afterAll(async () => {
  stopGroup('SIGTERM')
  await new Promise((resolve) => setTimeout(resolve, 500))
  stopGroup('SIGKILL')
  rmSync(state, { recursive: true, force: true })
})

describe('pnpm dev (scripts/dev.mjs)', () => {
  it('applied the D1 migrations: the seeded products answer, through the tiers', async () => {
    expect(output).toMatch(/0001_products\.sql/)
    const miss = await fetch(`${url}/api/products/3`)
    expect(await miss.json()).toEqual({ id: '3', name: 'Mug', cents: 900 })
    expect(miss.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
    const hit = await fetch(`${url}/api/products/3`)
    await hit.body?.cancel()
    expect(hit.headers.get('cache-status')).toMatch(/^tiercache; hit; ttl=\d+; detail=L1$/)
  })

  it('picks KV + the Durable Object from wrangler.jsonc, and a price change in D1 reaches the next request', async () => {
    expect(await (await fetch(`${url}/tiers`)).json()).toMatchObject({ l2: 'kv', coordinator: 'durable-object' })
    await (await fetch(`${url}/api/products/1`)).body?.cancel()
    expect((await fetch(`${url}/admin/price?id=1&cents=2100`, { method: 'POST' })).status).toBe(204)
    const after = await fetch(`${url}/api/products/1`)
    expect(await after.json()).toEqual({ id: '1', name: 'Teapot', cents: 2100 })
    expect(after.headers.get('cache-status')).toBe('tiercache; fwd=miss; stored')
  })
})
