#!/usr/bin/env node
// testkit's Upstash endpoint in a process of its own, so that its event loop does not share a thread with the load
// generator: `node scripts/upstash-endpoint.mjs <redis-url>` prints `UPSTASH_URL=...`, `UPSTASH_TOKEN=...` and
// `ready`, and stops when its stdin ends. Faults are set over HTTP (POST /__testkit/fault, see tools/testkit).
import { startUpstashServer } from '@tiercache/testkit'

const redisUrl = process.argv[2]
if (redisUrl === undefined) {
  process.stderr.write('usage: upstash-endpoint.mjs <redis://127.0.0.1:PORT>\n')
  process.exit(2)
}
const server = await startUpstashServer({ redisUrl })
process.stdout.write(`UPSTASH_URL=${server.url}\nUPSTASH_TOKEN=${server.token}\nready\n`)
const stop = async () => {
  await server.stop()
  process.exit(0)
}
process.stdin.on('end', stop)
process.stdin.on('error', stop)
process.stdin.resume()
process.on('SIGTERM', stop)
