/**
 * `@tiercache/core/redis`: the Redis layout every tiercache coordinator on Redis shares, so that a Worker
 * (`upstashCoordinator`, over HTTP) and an origin server (`redisCoordinator`, over TCP) invalidate each other's
 * entries and take each other's locks. Key names, Lua script texts and reply parsing only: no client, no runtime
 * dependency, nothing an app that does not import this subpath carries.
 *
 * Layout (`<prefix>` defaults to `tc:`):
 *
 * | key | value |
 * |---|---|
 * | `<prefix>{tags}:stamp` | the current stamp (integer string, no expiry) |
 * | `<prefix>{tags}:tag:<namespaced tag>` | the stamp of the tag's last invalidation (integer string, PX tagTtl, only ever raised) |
 * | `<prefix>{tags}:tag:%soft:<namespaced tag>` | the stamp of the tag's last soft invalidation (same rules) |
 * | `<prefix>lock:<namespaced key>` | a random token (SET NX PX, released by compare-and-delete) |
 * | `<prefix>wait:<token>:n` | how many waiters registered on the lock holding `<token>` (PX the lock's ttl) |
 * | `<prefix>wait:<token>` | list the holder pushes one hand-over per waiter to (see LOCK_HAND), waiters BLPOP it |
 *
 * The `{tags}` hash tag puts the stamp and every tag in one Redis Cluster slot, so one script raises them together.
 *
 * Soft records (decided 2026-12-03, session 4, for `invalidateTags(tags, { mode: 'soft' })` on Upstash and Redis):
 * the soft record of a tag is the ordinary tag record of `'%soft:' + tag` (core's SOFT_TAG, `@tiercache/core/store`;
 * no namespaced tag can have that name), so INVALIDATE_TAGS, MGET and `tagStampKeys` handle it like any tag, and
 * coordinators of either protocol see each other's soft invalidations. A coordinator declaring `softRecords` must read
 * them in the same request as the hard ones: `tagStampKeys(layout, [...tags, ...softTags(tags)])` for an MGET, and
 * READ_WITH_TAG_STAMPS answers, per entry, the stamps of its tags followed by those of their soft records (2n values
 * for n tags; before this change it answered n). Nothing already stored changes: entries and hard tag keys keep
 * their format, and a tag never soft-invalidated simply has no soft key (stamp 0).
 *
 * Lock hand-over (decided 2026-12-03, session 4, so that a Worker waiting on an origin server's lock is answered when
 * the server's load ends, not after lockWait): the wait keys above, written by upstashCoordinator's lock scripts, are
 * part of the shared layout. A holder of either protocol hands each registered waiter either `LOCK_RELEASED` (load
 * yourself) or `<current stamp>,<tag stamps...>,<soft-record stamps...>\n<envelope>` (the entry, with the stamps of
 * its tags and their soft records read when it was handed). The wait keys sit outside the `{tags}` slot: on a Redis
 * Cluster, redisCoordinator keeps plain compare-and-delete releases.
 *
 * @example
 * import { INVALIDATE_TAGS, parseStamp, redisLayout } from '@tiercache/core/redis'
 * const layout = redisLayout('tc:')
 * const stamp = parseStamp(await redis.eval(INVALIDATE_TAGS, [layout.stampKey, ...tags.map(layout.tagKey)], ['2592000000']))
 */

/** The prefix of every key when none is given. */
export const DEFAULT_REDIS_PREFIX = 'tc:'

/** Longest prefix accepted. */
export const MAX_REDIS_PREFIX_LENGTH = 128

/** Where one deployment's coordinator keys live in Redis. */
export interface RedisLayout {
  readonly prefix: string
  /** `<prefix>{tags}:stamp`: the current stamp. */
  readonly stampKey: string
  /** `<prefix>{tags}:tag:`: prepended to a namespaced tag. */
  readonly tagPrefix: string
  /** `<prefix>lock:`: prepended to a namespaced key. */
  readonly lockPrefix: string
  /** `<prefix>wait:`: prepended to a lock holder's token for its waiters' count (`:n`) and hand-over list. */
  readonly waitPrefix: string
  /** The key holding a namespaced tag's stamp. */
  tagKey(tag: string): string
  /** The key of the lock on a namespaced key. */
  lockKey(key: string): string
}

/**
 * The key layout for `prefix`. Throws a TypeError or RangeError naming `name` unless the prefix is a string of at
 * most 128 characters without `{` or `}` (a brace would move keys out of the `{tags}` Cluster slot).
 *
 * @example
 * redisLayout().stampKey // 'tc:{tags}:stamp'
 * redisLayout('app:').tagKey('ns:products') // 'app:{tags}:tag:ns:products'
 */
export function redisLayout(prefix: string = DEFAULT_REDIS_PREFIX, name = 'options.prefix'): RedisLayout {
  if (typeof prefix !== 'string') throw new TypeError(`${name} must be a string, got ${prefix === null ? 'null' : typeof prefix}`)
  if (prefix.length > MAX_REDIS_PREFIX_LENGTH) {
    throw new RangeError(`${name} must be at most ${MAX_REDIS_PREFIX_LENGTH} characters, got ${prefix.length}`)
  }
  if (/[{}]/.test(prefix)) {
    throw new RangeError(`${name} must not contain '{' or '}' (they would move keys out of the {tags} Cluster slot), got ${JSON.stringify(prefix)}`)
  }
  const tagPrefix = `${prefix}{tags}:tag:`
  const lockPrefix = `${prefix}lock:`
  return Object.freeze({
    prefix,
    stampKey: `${prefix}{tags}:stamp`,
    tagPrefix,
    lockPrefix,
    waitPrefix: `${prefix}wait:`,
    tagKey: (tag: string) => tagPrefix + tag,
    lockKey: (key: string) => lockPrefix + key,
  })
}

/**
 * Issues a new stamp and records it on tags, atomically: reads TIME, takes `s = max(stamp + 1, TIME in ms,
 * greatest tag stamp + 1)`, sets the stamp key to `s` and every tag key to `s` (PX ARGV[1]), returns `s` as an
 * integer string. Stamps only grow, whatever the clocks of the callers.
 *
 * KEYS[1]: `layout.stampKey`. KEYS[2..]: `layout.tagKey(tag)` for each namespaced tag (all in the `{tags}` slot).
 * ARGV[1]: how long tag keys live, in ms (tagTtl). Optional ARGV[2], ARGV[3]: a channel and a message the script
 * PUBLISHes once the tags are raised: the invalidation bus (`<prefix>bus`, a JSON message `{"o": sender, "a": ms,
 * "t": [namespaced tags]}`, as @tiercache/redis's bus sends it), so that servers subscribed there drop their
 * in-process copies at once, whichever client (Upstash over HTTP, Redis over TCP) invalidated.
 */
export const INVALIDATE_TAGS = `
local time = redis.call('TIME')
local s = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if last + 1 > s then s = last + 1 end
for i = 2, #KEYS do
  local tag = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
  if tag + 1 > s then s = tag + 1 end
end
local text = string.format('%.0f', s)
redis.call('SET', KEYS[1], text)
for i = 2, #KEYS do
  redis.call('SET', KEYS[i], text, 'PX', ARGV[1])
end
if ARGV[2] ~= nil and ARGV[2] ~= '' then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return text
`

/**
 * Deletes a lock only while it still holds the caller's token (compare-and-delete): a holder whose lock expired
 * cannot release the next holder's. KEYS[1]: `layout.lockKey(key)`. ARGV[1]: the token. Returns 1 or 0.
 */
export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`

/** What a lock holder with nothing to hand over pushes to its waiters: not JSON, so clients hand it back as is. */
export const LOCK_RELEASED = 'released'

/**
 * Lua defining `hand(lockKey, token, waitPrefix, payload, listTtl)`, for scripts to build on: releases the lock if it
 * still holds `token`, then pushes `payload` once per registered waiter of `token` on `<waitPrefix><token>`
 * (expiring after `listTtl` ms, for waiters that gave up meanwhile). Returns how many waiters it handed to.
 */
export const LOCK_HAND = `
local function hand(lockKey, token, waitPrefix, payload, listTtl)
  if redis.call('GET', lockKey) == token then redis.call('DEL', lockKey) end
  local countKey = waitPrefix .. token .. ':n'
  local n = tonumber(redis.call('GET', countKey) or '0') or 0
  if n > 0 then
    redis.call('DEL', countKey)
    local list = waitPrefix .. token
    for i = 1, n do redis.call('RPUSH', list, payload) end
    redis.call('PEXPIRE', list, listTtl)
  end
  return n
end
`

/**
 * Releases a lock without an entry and tells its waiters to load (LOCK_RELEASED). KEYS[1]: the lock key. ARGV: the
 * holder's token, `layout.waitPrefix`, list ttl (ms). Returns how many waiters were told.
 */
export const RELEASE_AND_HAND = `${LOCK_HAND}
return hand(KEYS[1], ARGV[1], ARGV[2], '${LOCK_RELEASED}', ARGV[3])
`

/**
 * Hands an entry to the lock's registered waiters without releasing the lock (its holder releases once its tiers
 * hold the entry): pushes `<stamps, comma-separated>\n<envelope>`, the stamps being the MGET of KEYS. KEYS: the stamp
 * key, then the entry's tag keys and their soft records' (`tagStampKeys`). ARGV: the holder's token,
 * `layout.waitPrefix`, list ttl (ms), the envelope (encodeEntry). Returns how many waiters got it.
 */
export const SHARE_WITH_WAITERS = `
local countKey = ARGV[2] .. ARGV[1] .. ':n'
local n = tonumber(redis.call('GET', countKey) or '0') or 0
if n == 0 then return 0 end
redis.call('DEL', countKey)
local stamps = redis.call('MGET', unpack(KEYS))
local head = {}
for i = 1, #stamps do head[i] = stamps[i] or '0' end
local payload = table.concat(head, ',') .. '\\n' .. ARGV[4]
local list = ARGV[2] .. ARGV[1]
for i = 1, n do redis.call('RPUSH', list, payload) end
redis.call('PEXPIRE', list, ARGV[3])
return n
`

/**
 * Reads entries and, in the same round trip, the current stamp and the stamps of each entry's tags and of their soft
 * records. KEYS: entry keys. ARGV[1]: `layout.tagPrefix`. ARGV[2]: `layout.stampKey`.
 * Returns `{ stamp or nil, { entry or nil, { tag stamps } }, ... }`: the stamp first, then one row per key; for an
 * entry with n tags, its row's stamps are the n tags' stamps, then the n stamps of their soft records (`%soft:<tag>`),
 * in the same order (2n values, nil where never invalidated). '%soft:' is core's SOFT_TAG, written out here.
 *
 * Entries must be written with their tags first (`{"t":[...],...}`, as core's `encodeEntry` writes them), so the tags are
 * read from the head of the text without decoding the value. Tag keys are derived from the entries, not declared
 * in KEYS: fine on Upstash and standalone Redis, not on Redis Cluster (read the entries, then MGET the stamp key
 * and the tag keys there instead). Read-only: send it with EVAL_RO so that read replicas can answer.
 */
export const READ_WITH_TAG_STAMPS = `
local out = { redis.call('GET', ARGV[2]) }
for i, key in ipairs(KEYS) do
  local raw = redis.call('GET', key)
  local stamps = {}
  if raw and string.sub(raw, 1, 6) == '{"t":[' then
    local from = 7
    while true do
      local close = string.find(raw, ']', from, true)
      if not close then break end
      local ok, tags = pcall(cjson.decode, string.sub(raw, 6, close))
      if ok then
        if type(tags) == 'table' and #tags > 0 then
          local names = {}
          for j = 1, #tags do
            names[j] = ARGV[1] .. tostring(tags[j])
            names[#tags + j] = ARGV[1] .. '%soft:' .. tostring(tags[j])
          end
          stamps = redis.call('MGET', unpack(names))
        end
        break
      end
      from = close + 1
    end
  end
  out[i + 1] = { raw, stamps }
end
return out
`

/**
 * The keys to MGET for the current stamp and the stamps of `tags`: the stamp key first. Feed the reply to
 * `parseTagStamps`.
 *
 * @example
 * const reply = await redis.mget(...tagStampKeys(layout, tags))
 * const { stamp, tags: stamps } = parseTagStamps(reply, tags.length)
 */
export function tagStampKeys(layout: RedisLayout, tags: readonly string[]): string[] {
  const keys = [layout.stampKey]
  for (const tag of tags) keys.push(layout.tagPrefix + tag)
  return keys
}

/** The current stamp and the stamp of each tag, from the reply to an MGET of `tagStampKeys(layout, tags)`. */
export function parseTagStamps(reply: unknown, count: number): { stamp: number; tags: number[] } {
  if (!Array.isArray(reply) || reply.length !== count + 1) {
    throw new TypeError(`the MGET of the stamp and ${count} tags answered ${Array.isArray(reply) ? `${reply.length} values` : typeof reply}`)
  }
  return { stamp: parseStamp(reply[0]), tags: reply.slice(1).map(parseStamp) }
}

/**
 * A stamp as a client hands it back (an integer string, a number when the client parsed it, bytes, or nil),
 * 0 for nil or anything that is not a non-negative integer.
 */
export function parseStamp(value: unknown): number {
  let n: number
  if (typeof value === 'number') n = value
  else if (typeof value === 'string') n = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN
  else if (value instanceof Uint8Array) n = parseStamp(decodeAscii(value))
  else return 0
  return Number.isSafeInteger(n) && n > 0 ? n : 0
}

function decodeAscii(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length && i < 32; i++) out += String.fromCharCode(bytes[i] as number)
  return out
}
