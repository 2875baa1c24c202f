// Runs in Node before any workerd test starts. Starts a loopback HTTP stand-in
// for the Upstash REST endpoint and hands its URL to the workerd tests, both as
// a vitest `provide` value (read with `inject()` in a test) and, through the
// `cloudflareTest(({ inject }) => ...)` options function in vitest.config.ts,
// as a miniflare binding (read with `env` from `cloudflare:workers`).
//
// The real Upstash-compatible server lives in tools/testkit; this stub only
// proves the wiring: Node-started service -> URL -> fetch() from inside workerd.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestProject } from 'vitest/node'

const STUB_TOKEN = 'probe-token'

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let requests = 0
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests++
    void readBody(req).then((body) => {
      const authorized = req.headers.authorization === `Bearer ${STUB_TOKEN}`
      res.writeHead(authorized ? 200 : 401, { 'content-type': 'application/json' })
      res.end(
        JSON.stringify({
          from: 'node-stub',
          method: req.method,
          path: req.url,
          authorized,
          body,
          requests,
        }),
      )
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`

  project.provide('upstashStubUrl', url)
  project.provide('upstashStubToken', STUB_TOKEN)

  return async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
