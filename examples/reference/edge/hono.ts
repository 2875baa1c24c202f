// packages/edge/README.md, "Hono": response caching with tiercache(), data caching with cached().
import { createEdgeCache } from '@tiercache/edge'
import { cached, tiercache, type TiercacheVariables } from '@tiercache/edge/hono'
import { Redis } from '@upstash/redis/cloudflare'
import { Hono } from 'hono'

interface Env {
  UPSTASH_REDIS_REST_URL?: string
  UPSTASH_REDIS_REST_TOKEN?: string
}

async function loadUser(id: string) {
  return { id, name: `user ${id}` }
}

const app = new Hono<{ Bindings: Env; Variables: TiercacheVariables }>()
const cache = (env: Env) => createEdgeCache(env, { Redis })
app.use('/api/*', tiercache({ app, cache, policy: { ttl: '30s', swr: '5m' } }))  // response caching + c.var.cache
app.use('/data/*', tiercache({ cache }))                                         // c.var.cache only
app.get('/data/user/:id', async (c) =>
  c.json(await cached(c, `user:${c.req.param('id')}`, () => loadUser(c.req.param('id')), { ttl: '1m' })))
export default app
