import { parseDuration, typeOf } from '../duration.js'
import type { Entry } from '../entry.js'
import type { ResolvedPolicy } from '../policy.js'
import type { Tiers } from '../tiered.js'
import type { Background, WaitUntil } from './background.js'
import { setup, type Installable, type Strategy } from './strategy.js'
import type { WriteOrder } from './write-order.js'

/**
 * Sliding expiry (sessions): installs what `policy.sliding` asks for. A fresh entry read under a sliding policy is
 * extended to another `ttl` from the read, in every tier that holds it, never past `maxAge` after it was written;
 * touches are batched (one write per tier per turn of the event loop) and made at most once per key per tenth of
 * the ttl.
 *
 * @example
 * const sessions = createCache({
 *   tiers: [memoryStore(), redisStore({ client })],
 *   policy: { ttl: '30m', sliding: true, maxAge: '12h' },
 *   strategies: [slidingExpiry()],
 * })
 */
export function slidingExpiry(): Strategy {
  const strategy: Installable = {
    setup,
    name: 'sliding',
    policy(input, base, ttl, where) {
      let sliding = base?.sliding ?? false
      if (input.sliding !== undefined) {
        if (typeof input.sliding !== 'boolean') throw new TypeError(`${where}.sliding must be a boolean, got ${typeOf(input.sliding)}`)
        sliding = input.sliding
      }
      if (!sliding) {
        if (input.maxAge !== undefined) throw new RangeError(`${where}.maxAge caps sliding expiry: it needs ${where}.sliding: true`)
        // A call that turns sliding off drops an inherited cap with it.
        return { sliding, maxAge: 0 }
      }
      if (ttl === 0) throw new RangeError(`${where}.sliding needs ${where}.ttl > 0`)
      const maxAge = input.maxAge === undefined ? (base?.maxAge ?? 0) : parseDuration(input.maxAge, `${where}.maxAge`)
      if (maxAge > 0 && maxAge < ttl) throw new RangeError(`${where}.maxAge (${maxAge} ms) must not be shorter than ${where}.ttl (${ttl} ms)`)
      return { sliding, maxAge }
    },
    install(host) {
      const touches = new Touches(host.tiers, host.order, host.background)
      return {
        fresh(hit, entry, _tier, now) {
          if (hit.p.sliding) touches.touch(hit.key, hit.full, entry, hit.p, now, hit.waitUntil)
        },
      }
    },
  }
  return strategy
}

/** An entry is extended only when that gains at least this share of its ttl: one touch per key per ttl / 10. */
const TOUCH_SHARE = 0.1

/**
 * The entry a read at `now` leaves behind under a sliding policy: fresh for another `ttl` from now (its stale
 * windows moved along), never past `createdAt + maxAge`; undefined when that gains less than a tenth of the ttl.
 */
export function slide(entry: Entry, p: ResolvedPolicy, now: number): Entry | undefined {
  if (entry.negative === true) return undefined
  const maxAge = p.maxAge ?? 0
  const cap = maxAge > 0 ? entry.createdAt + maxAge : Infinity
  const freshUntil = Math.min(now + p.ttl, cap)
  const gain = freshUntil - entry.freshUntil
  if (gain < p.ttl * TOUCH_SHARE) return undefined
  const slid: Entry = { ...entry, freshUntil, staleUntil: Math.min(entry.staleUntil + gain, cap) }
  if (entry.errorUntil !== undefined) slid.errorUntil = Math.min(entry.errorUntil + gain, cap)
  return slid
}

interface Touch {
  key: string
  entry: Entry
  token: number
}

interface Sent {
  freshUntil: number
  token: number
}

/** Keys whose last touch is remembered at most; past it the memory is cleared (a key then touches once more). */
const REMEMBERED = 10_000

/**
 * Extends entries read under a sliding policy in every tier, without a write per read: touches wait for the end
 * of the current turn of the event loop and go out together, one `setMany` per tier. Each key's last touch is
 * remembered (no timer: a timer dies with its request at the edge), so reads that still find the older entry in a
 * tier the touch has not reached yet (an async store with no synchronous L1, a slow or ignoring tier) touch it
 * again only once that gains a tenth of the ttl over the touch already sent; a write of the key since (set, write,
 * delete, expire, a load) lifts that.
 */
class Touches {
  readonly #tiers: Tiers
  readonly #order: WriteOrder
  readonly #background: Background
  #pending: Map<string, Touch> | undefined
  /** Per key, the last touch sent: the freshUntil it wrote and the WriteOrder token it was sent with. */
  readonly #sent = new Map<string, Sent>()

  constructor(tiers: Tiers, order: WriteOrder, background: Background) {
    this.#tiers = tiers
    this.#order = order
    this.#background = background
  }

  /** Extends `entry` (read at `now`) when the policy slides and the gain is worth a write. */
  touch(key: string, full: string, entry: Entry, p: ResolvedPolicy, now: number, waitUntil: WaitUntil | undefined): void {
    const slid = slide(entry, p, now)
    if (slid === undefined) return
    const order = this.#order
    const sent = this.#sent
    const last = sent.get(full)
    if (last !== undefined && !order.overtaken(full, last.token) && slid.freshUntil - last.freshUntil < p.ttl * TOUCH_SHARE) return
    const token = order.token()
    if (sent.size >= REMEMBERED && last === undefined) sent.clear()
    sent.set(full, { freshUntil: slid.freshUntil, token })
    let pending = this.#pending
    if (pending === undefined) {
      pending = this.#pending = new Map()
      this.#background.track(
        Promise.resolve().then(() => this.#flush()),
        waitUntil,
      )
    }
    pending.set(full, { key, entry: slid, token })
  }

  async #flush(): Promise<void> {
    const pending = this.#pending
    this.#pending = undefined
    if (pending === undefined) return
    const items: [string, string, Entry][] = []
    // A key written (set, write, delete) since it was read keeps the newer write.
    for (const [full, touch] of pending) if (!this.#order.overtaken(full, touch.token)) items.push([full, touch.key, touch.entry])
    if (items.length === 0) return
    const tiers = this.#tiers
    const writes: Promise<boolean>[] = []
    for (let i = 0; i < tiers.length; i++) {
      if (tiers.stores[i]?.setSync !== undefined) for (const [full, key, entry] of items) tiers.writeNow(i, full, key, entry)
      else writes.push(tiers.writeMany(i, items))
    }
    await Promise.all(writes)
  }
}
