import type { RedisClient, RedisScript } from './redis-client.js'

// The script texts themselves (INVALIDATE_TAGS, RELEASE_LOCK, READ_WITH_TAG_STAMPS) live in @tiercache/core/redis,
// shared with @tiercache/redis so that both speak one Redis layout.

const scripts = new WeakMap<RedisClient, Map<string, RedisScript>>()

/**
 * The client's script for `script`, made once per client: @upstash/redis's `createScript` (EVALSHA, then EVAL when
 * Redis does not know it yet, which loads it: one round trip once known, two the first time). A client without
 * `createScript` runs it by its text (EVAL) every time.
 */
export function scriptOf(redis: RedisClient, script: string): RedisScript {
  let known = scripts.get(redis)
  if (known === undefined) scripts.set(redis, (known = new Map()))
  let made = known.get(script)
  if (made === undefined) {
    made = typeof redis.createScript === 'function' ? redis.createScript(script) : { exec: (keys, args) => redis.eval(script, keys, args) }
    known.set(script, made)
  }
  return made
}
