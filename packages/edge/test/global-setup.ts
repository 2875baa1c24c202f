// Runs in Node before the workerd tests. Starts (or reuses) the shared redis-server + Upstash-compatible
// endpoint from @tiercache/testkit, and a small control endpoint through which a test file running inside
// workerd starts a redis + endpoint pair of its own: files that count round trips, inject faults or flush
// must not share a pair with files running in parallel. Everything binds 127.0.0.1 and stops at teardown.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setupServices, startRedis, startUpstashServer, type RedisServer, type UpstashServer } from '@tiercache/testkit'
import type { TestProject } from 'vitest/node'

interface Pair {
  redis: RedisServer
  upstash: UpstashServer
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = await setupServices()
  project.provide('UPSTASH_TEST_URL', shared.env.UPSTASH_TEST_URL)
  project.provide('UPSTASH_TEST_TOKEN', shared.env.UPSTASH_TEST_TOKEN)

  const token = randomBytes(16).toString('hex')
  const pairs = new Map<string, Pair>()
  let next = 0

  async function startPair(): Promise<{ id: string; url: string; token: string }> {
    const redis = await startRedis()
    try {
      const upstash = await startUpstashServer({ redisUrl: redis.url })
      const id = String(++next)
      pairs.set(id, { redis, upstash })
      return { id, url: upstash.url, token: upstash.token }
    } catch (error) {
      await redis.stop()
      throw error
    }
  }

  async function stopPair(id: string): Promise<boolean> {
    const pair = pairs.get(id)
    if (pair === undefined) return false
    pairs.delete(id)
    await pair.upstash.stop()
    await pair.redis.stop()
    return true
  }

  const control = createServer((req: IncomingMessage, res: ServerResponse) => {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (req.headers.authorization !== `Bearer ${token}`) return reply(401, { error: 'Unauthorized' })
    const match = /^\/pairs(?:\/(\w+))?$/.exec(req.url ?? '')
    if (match === null) return reply(404, { error: 'POST /pairs or DELETE /pairs/:id' })
    const work =
      req.method === 'POST' && match[1] === undefined
        ? startPair().then((pair) => reply(200, pair))
        : req.method === 'DELETE' && match[1] !== undefined
          ? stopPair(match[1]).then((stopped) => reply(stopped ? 200 : 404, { stopped }))
          : Promise.resolve(reply(405, { error: 'POST /pairs or DELETE /pairs/:id' }))
    work.catch((error: unknown) => reply(500, { error: error instanceof Error ? error.message : String(error) }))
  })
  await new Promise<void>((resolve, reject) => {
    control.once('error', reject)
    control.listen(0, '127.0.0.1', () => resolve())
  })
  project.provide('SERVICES_CONTROL_URL', `http://127.0.0.1:${(control.address() as AddressInfo).port}`)
  project.provide('SERVICES_CONTROL_TOKEN', token)

  return async () => {
    control.closeAllConnections()
    await new Promise<void>((resolve) => control.close(() => resolve()))
    await Promise.all([...pairs.keys()].map((id) => stopPair(id)))
    await shared.stop()
  }
}
