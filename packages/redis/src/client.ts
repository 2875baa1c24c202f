import type { Cluster, Redis } from 'ioredis'
import { typeOf } from '@tiercache/core/kit'

/** An ioredis client: `new Redis(url, options)` for one server, `new Redis.Cluster(nodes, options)` for a Cluster. */
export type RedisClient = Redis | Cluster

/** Throws a TypeError naming `name` unless `client` looks like an ioredis Redis or Cluster client. */
export function assertRedisClient(client: unknown, name: string): asserts client is RedisClient {
  const c = client as Partial<Record<string, unknown>> | null
  const missing =
    typeof c !== 'object' || c === null
      ? ['mget']
      : ['mget', 'set', 'del', 'pipeline', 'evalsha', 'duplicate'].filter((method) => typeof c[method] !== 'function')
  if (missing.length > 0 || typeof (c as { isCluster?: unknown }).isCluster !== 'boolean') {
    throw new TypeError(
      `${name} must be an ioredis client (new Redis(url) or new Redis.Cluster(nodes)), got ${typeOf(client)}${missing.length > 0 ? ` without ${missing.join(', ')}` : ''}`,
    )
  }
}

/** The result of one command of a pipeline, or the error it answered. */
export function pipelineResult(results: [Error | null, unknown][] | null, index: number): unknown {
  const row = results?.[index]
  if (row === undefined) throw new Error('the pipeline was discarded (connection lost)')
  if (row[0] !== null) throw row[0]
  return row[1]
}
