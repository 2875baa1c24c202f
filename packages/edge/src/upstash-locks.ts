import type { LockAttempt } from '@tiercache/core'
import { decodeEntry } from '@tiercache/core/store'
import { LOCK_HAND, READ_WITH_TAG_STAMPS, RELEASE_AND_HAND } from '@tiercache/core/redis'

// Locks on Upstash that cost as few requests as the scripts allow (Upstash bills per request and command):
// - a read that a load follows takes the lock in the same script when the entry is missing (READ_AND_LOCK), or
//   registers as a waiter of the holder it finds (also when the entry is there: the reader may find it stale);
// - the holder's write of the entry releases the lock and hands the written envelope to the registered waiters in
//   the same script (WRITE_AND_RELEASE); a holder with nothing to write releases them with a marker (RELEASE_AND_HAND);
// - a waiter blocks on its holder's list (BLPOP) instead of polling, and gets the envelope or the marker.
// Keys, with the coordinator's prefix: the lock `<prefix>lock:<key>` (a random token, as every tiercache
// coordinator on Redis writes it), and per holder token `<prefix>wait:<token>` (list) and `<prefix>wait:<token>:n`
// (how many waiters registered).

// The hand-over (LOCK_HAND, LOCK_RELEASED, RELEASE_AND_HAND) is part of the shared layout in @tiercache/core/redis:
// an origin server's redisCoordinator hands its entry to Workers waiting on its lock the same way.
const HAND = LOCK_HAND
export { RELEASE_AND_HAND }

/**
 * Shared Lua: `join` registers one more waiter of the lock's holder and returns the holder's token (nil when the lock
 * is free); `take` takes the lock for `token` when it is free, else joins; returns the holder's token.
 */
const TAKE = `
local function join(lockKey, px, waitPrefix)
  local holder = redis.call('GET', lockKey)
  if holder then
    local countKey = waitPrefix .. holder .. ':n'
    redis.call('INCR', countKey)
    redis.call('PEXPIRE', countKey, px)
  end
  return holder
end
local function take(lockKey, token, px, waitPrefix)
  local holder = join(lockKey, px, waitPrefix)
  if holder then return holder end
  redis.call('SET', lockKey, token, 'PX', px)
  return token
end
`

/**
 * READ_WITH_TAG_STAMPS for one key, then TAKE when the entry is missing, or `join` when it is there: a reader that
 * finds an entry while another isolate loads the key (a refresh after an invalidation, which the script cannot tell
 * from a fresh hit) waits for that load's entry if it then decides to load too, instead of loading again once the
 * holder has released (issue 13: its lock request would come after the release). A fresh hit during a load costs
 * the holder one more hand-over that nobody takes (the list expires); no request. KEYS[1]: the entry key.
 * ARGV[1..2] as READ_WITH_TAG_STAMPS; ARGV[3]: the lock key; ARGV[4]: a new token; ARGV[5]: lock ttl (ms);
 * ARGV[6]: wait prefix. Returns READ_WITH_TAG_STAMPS's reply, plus the holder's token when the entry is missing
 * (ARGV[4] when taken) or when it is there and the lock is held.
 */
export const READ_AND_LOCK = `${TAKE}
local function read()
${READ_WITH_TAG_STAMPS}
end
local out = read()
if not out[2][1] then out[3] = take(ARGV[3], ARGV[4], ARGV[5], ARGV[6]) else out[3] = join(ARGV[3], ARGV[5], ARGV[6]) end
return out
`

/** TAKE alone. KEYS[1]: the lock key. ARGV: token, lock ttl (ms), wait prefix. Returns the holder's token. */
export const TAKE_LOCK = `${TAKE}
return take(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
`

/**
 * Writes an entry, reads the current stamp and the entry's tag stamps, releases the holder's lock and hands its
 * waiters `<stamps, comma-separated>\n<envelope>` (so that they check the entry's tags without a request of their
 * own). KEYS[1]: the entry key; KEYS[2]: the lock key. ARGV[1]: the envelope; ARGV[2]: PX; ARGV[3]: the holder's
 * token; ARGV[4]: wait prefix; ARGV[5]: list ttl (ms); ARGV[6..]: the stamp key, then the entry's tag keys in order,
 * then the keys of their soft records in the same order (core/redis layout).
 * Returns the stamps (MGET's reply).
 */
export const WRITE_AND_RELEASE = `${HAND}
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local stamps = redis.call('MGET', unpack(ARGV, 6))
local head = {}
for i = 1, #stamps do head[i] = stamps[i] or '0' end
hand(KEYS[2], ARGV[3], ARGV[4], table.concat(head, ',') .. '\\n' .. ARGV[1], ARGV[5])
return stamps
`


/** What a waiter's BLPOP brought: the holder's entry (with the stamps read when it was written), or its release. */
export interface HandedOver {
  attempt: LockAttempt
  /** The current stamp, then the stamps of the entry's tags in order (as strings), when an entry came. */
  stamps?: string[]
}

/** Parses a waiter's BLPOP reply; undefined when the wait ended with nothing. */
export function handedOver(reply: unknown): HandedOver | undefined {
  if (!Array.isArray(reply) || reply.length < 2) return undefined
  const payload: unknown = reply[1]
  if (typeof payload !== 'string') return { attempt: { status: 'released' } }
  const split = payload.indexOf('\n')
  const entry = split < 0 ? undefined : decodeEntry(payload.slice(split + 1))
  if (entry === undefined) return { attempt: { status: 'released' } }
  return { attempt: { status: 'shared', entry }, stamps: payload.slice(0, split).split(',') }
}
