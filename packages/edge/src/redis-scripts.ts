import type { RedisClient } from './redis-client.js'
import { sha1Hex } from './validate.js'

/**
 * Reads entries and, in the same round trip, the invalidation times of their tags.
 * KEYS: entry keys. ARGV[1]: the tag key prefix. Returns, per key, { entry or nil, { tag times or nil } }.
 * Entries are written with their tags first (`{"t":[...],"v":...}`), so the tags are read from the head of
 * the text without decoding the whole value. Tag keys are derived from the entry, not declared in KEYS:
 * fine on Upstash and standalone Redis (Upstash runs such a script under its global script lock), not on
 * Redis Cluster. Sent with EVAL_RO so that Upstash read regions can answer it.
 */
export const READ_WITH_TAG_TIMES = `
local out = {}
for i, key in ipairs(KEYS) do
  local raw = redis.call('GET', key)
  local times = {}
  if raw and string.sub(raw, 1, 6) == '{"t":[' then
    local from = 7
    while true do
      local close = string.find(raw, ']', from, true)
      if not close then break end
      local ok, tags = pcall(cjson.decode, string.sub(raw, 6, close))
      if ok then
        if type(tags) == 'table' and #tags > 0 then
          local names = {}
          for j = 1, #tags do names[j] = ARGV[1] .. tostring(tags[j]) end
          times = redis.call('MGET', unpack(names))
        end
        break
      end
      from = close + 1
    end
  end
  out[i] = { raw, times }
end
return out
`

/**
 * Records tag invalidation times: each tag key becomes max(current, ARGV[1]), kept for ARGV[2] ms.
 * Returns the resulting time of every tag (another process may have recorded a later one).
 */
export const SET_IF_GREATER = `
local at = tonumber(ARGV[1])
local out = {}
for i, key in ipairs(KEYS) do
  local raw = redis.call('GET', key)
  if at > (tonumber(raw or '0') or 0) then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
    out[i] = ARGV[1]
  else
    out[i] = raw
  end
end
return out
`

/** Deletes a lock only when it still holds the caller's token (compare-and-delete). */
export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`

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
