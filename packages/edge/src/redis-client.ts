/**
 * The commands tiercache sends through an `@upstash/redis` client (`new Redis(...)` from
 * `@upstash/redis/cloudflare`). Declared structurally, so that `@tiercache/edge` has no runtime dependency on the
 * client and tests can wrap one.
 *
 * Give the client a timeout (`signal: () => AbortSignal.timeout(ms)`, a function) so that a request to an
 * unreachable endpoint fails instead of hanging; core's `tierTimeout` still bounds every store call.
 */
export interface RedisClient {
  get(key: string): Promise<unknown>
  mget(...keys: string[]): Promise<unknown[]>
  set(key: string, value: string, options: { px: number }): Promise<unknown>
  set(key: string, value: string, options: { px: number; nx: true }): Promise<unknown>
  del(...keys: string[]): Promise<number>
  eval(script: string, keys: string[], args: string[]): Promise<unknown>
  evalsha(sha1: string, keys: string[], args: string[]): Promise<unknown>
  evalRo(script: string, keys: string[], args: string[]): Promise<unknown>
  pipeline(): RedisPipeline
  /** Any command, sent on its own (not auto-pipelined): upstashCoordinator's lock waiters block with BLPOP. */
  exec?(args: [command: string, ...args: string[]]): Promise<unknown>
  /**
   * A script run by its SHA-1 (EVALSHA, falling back to EVAL on NOSCRIPT), as @upstash/redis makes them:
   * upstashCoordinator's scripts go through it. Without it they are sent by their text (EVAL) every time.
   */
  createScript?(script: string): RedisScript
}

/** A Lua script bound to its client (@upstash/redis `Script`): `exec` runs it. */
export interface RedisScript {
  exec(keys: string[], args: string[]): Promise<unknown>
}

/** A batch of commands sent in one request (`POST /pipeline`). */
export interface RedisPipeline {
  set(key: string, value: string, options: { px: number }): RedisPipeline
  del(...keys: string[]): RedisPipeline
  mget(...keys: string[]): RedisPipeline
  exec(): Promise<unknown[]>
}

/** Throws a TypeError naming `name` unless `redis` looks like an @upstash/redis client. */
export function assertRedisClient(redis: unknown, name: string): asserts redis is RedisClient {
  const r = redis as Partial<Record<keyof RedisClient, unknown>> | null
  const missing =
    typeof r !== 'object' || r === null ? ['get'] : (['get', 'mget', 'set', 'del', 'eval', 'evalsha', 'evalRo', 'pipeline'] as const).filter((m) => typeof r[m] !== 'function')
  if (missing.length > 0) {
    throw new TypeError(
      `${name} must be an @upstash/redis client (new Redis({ url, token }) from '@upstash/redis/cloudflare'); it has no ${missing.join(', ')}`,
    )
  }
}
