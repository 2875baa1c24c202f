// The origin server: `REDIS_URL=redis://127.0.0.1:6379 PORT=8788 pnpm start` (DATABASE=catalogue.db to keep data).
import { serve } from '@hono/node-server'
import { createApp } from './app.js'
import { Catalogue } from './catalogue.js'
import { createOriginCache } from './origin-cache.js'

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const port = Number(process.env.PORT ?? 8788)
const catalogue = new Catalogue(process.env.DATABASE ?? ':memory:')
const origin = createOriginCache({ redisUrl })
const server = serve({ fetch: createApp({ cache: origin.cache, catalogue }).fetch, hostname: process.env.HOST ?? '127.0.0.1', port }, (info) => {
  process.stdout.write(`tiercache origin: http://${info.address}:${info.port} (Redis ${redisUrl})\n`)
})

async function stop(): Promise<void> {
  server.close()
  await origin.close()
  catalogue.close()
  process.exit(0)
}
process.once('SIGINT', () => void stop())
process.once('SIGTERM', () => void stop())
