import type { RedisClient } from './redis-client.js'
import { sha1Hex } from './digest.js'

// The script texts themselves (INVALIDATE_TAGS, RELEASE_LOCK, READ_WITH_TAG_STAMPS) live in @tiercache/core/redis,
// shared with @tiercache/redis so that both speak one Redis layout.

const digests = new Map<string, Promise<string>>()

/**
 * Runs a script by its SHA-1 (EVALSHA) and, when Redis does not know it yet (NOSCRIPT), by its text (EVAL),
 * which also loads it: one round trip once the script is known, two the first time.
 */
export async function runScript(redis: RedisClient, script: string, keys: string[], args: string[]): Promise<unknown> {
  let digest = digests.get(script)
  if (digest === undefined) {
    digest = sha1Hex(script)
    digests.set(script, digest)
  }
  try {
    return await redis.evalsha(await digest, keys, args)
  } catch (error) {
    if (error instanceof Error && /noscript/i.test(error.message)) return redis.eval(script, keys, args)
    throw error
  }
}
