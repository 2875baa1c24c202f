/**
 * The Durable Object behind durableObjectCoordinator: the app exports this class and binds it once.
 *
 * One class plays three roles, told apart by the object's name (chosen by the coordinator, never by the app):
 * - the clock (`<prefix>stamp`): issues stamps, strictly increasing, `max(last + 1, now, caller's known + 1)`;
 * - tag shards (`<prefix>shard:<n>`): the stamp of each tag's last invalidation, in durable storage (a tag's soft
 *   record, the tag `'%soft:' + tag`, in the tag's own shard: the coordinator picks the shard);
 * - lock shards (the same objects, keys hashed separately): per-key locks in memory, whose waiters are held
 *   requests answered when the holder shares its entry, releases, or its lock expires, or at their own deadline;
 *   after a release, the shared entry answers (for a minute) lock requests whose read found an older one.
 *
 * The protocol is plain HTTP on the object's `fetch` (no `cloudflare:workers` import), spoken only by
 * durableObjectCoordinator of the same version.
 */

/** The part of a Durable Object's `state.storage` the object uses (the KV-style API; SQLite-backed or not). */
export interface DurableObjectStorageLike {
  get<T = unknown>(keys: string[]): Promise<Map<string, T>>
  get<T = unknown>(key: string): Promise<T | undefined>
  put(entries: Record<string, unknown>): Promise<void>
  delete(keys: string[]): Promise<number>
  list<T = unknown>(options: { prefix?: string; startAfter?: string; limit?: number }): Promise<Map<string, T>>
  getAlarm(): Promise<number | null>
  setAlarm(scheduledTime: number): Promise<void>
}

/** The part of a Durable Object's `state` the object uses. */
export interface DurableObjectStateLike {
  readonly storage: DurableObjectStorageLike
}

/** Headers of the lock protocol. */
export const LOCK_HEADER = 'tiercache-lock'
export const TOKEN_HEADER = 'tiercache-token'
/** Longest a waiter is held, and a lock lasts, whatever a caller asks. */
const MAX_WAIT_MS = 30_000
const MAX_LOCK_MS = 300_000
/** storage.get takes at most 128 keys per call. */
const STORAGE_BATCH = 128
/**
 * How long a released lock's shared entry answers lock requests that bring an older copy (`have`): about KV's
 * propagation time, the longest a reader elsewhere can still read the entry it replaced.
 */
const RECENT_MS = 60_000
/** Most released entries an object keeps for that, and most characters in all (the oldest go first). */
const MAX_RECENT = 1_000
const MAX_RECENT_CHARS = 16 * 1024 * 1024
/** How often an object looks for tag records past their tagTtl. */
const SWEEP_EVERY_MS = 86_400_000
const TAG = 't:'

type Outcome = { status: 'shared'; text: string } | { status: 'released' } | { status: 'timeout' }

interface Held {
  token: string
  /** The holder's entry, once shared (envelope text). */
  shared: string | undefined
  /** Its createdAt, when the holder told it. */
  created: number | undefined
  waiters: Set<(outcome: Outcome) => void>
  timer: ReturnType<typeof setTimeout>
}

/**
 * The tiercache Durable Object: tag stamps (strongly consistent, durable) and per-key locks whose waiters get the
 * holder's entry. Export it from the Worker and bind it (wrangler.toml):
 *
 * ```toml
 * durable_objects.bindings = [{ name = "TIERCACHE", class_name = "TiercacheCoordinator" }]
 * migrations = [{ tag = "tiercache-v1", new_sqlite_classes = ["TiercacheCoordinator"] }]
 * ```
 *
 * @example
 * export { TiercacheCoordinator } from '@tiercache/edge'
 */
export class TiercacheCoordinator {
  readonly #storage: DurableObjectStorageLike
  readonly #locks = new Map<string, Held>()
  /** Per key, the entry the last holder shared before releasing, with its createdAt, kept RECENT_MS. */
  readonly #recent = new Map<string, { text: string; created: number; until: number }>()
  #recentChars = 0
  /** The last stamp issued (clock role) or the greatest recorded (shard role); loaded on first use. */
  #stamp: number | undefined

  constructor(state: DurableObjectStateLike, _env?: unknown) {
    this.#storage = state.storage
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    try {
      switch (url.pathname) {
        case '/stamp':
          return Response.json({ stamp: await this.#issue(numberField(await request.json(), 'known')) })
        case '/stamp/read':
          return Response.json({ stamp: await this.#current() })
        case '/tags/read': {
          const body = await request.json()
          return Response.json(await this.#read(tagsField(body)))
        }
        case '/tags/raise': {
          const body = await request.json()
          return Response.json({ stamp: await this.#raise(tagsField(body), numberField(body, 'stamp'), numberField(body, 'ttl')) })
        }
        case '/lock/acquire':
          return await this.#acquire(
            param(url, 'key'),
            clamp(Number(param(url, 'ttl')), 1, MAX_LOCK_MS),
            clamp(Number(param(url, 'wait')), 0, MAX_WAIT_MS),
            optionalNumber(url, 'have'),
          )
        case '/lock/share':
          return Response.json({ ok: this.#share(param(url, 'key'), param(url, 'token'), await request.text(), optionalNumber(url, 'created')) })
        case '/lock/release':
          return Response.json({ ok: this.#release(param(url, 'key'), param(url, 'token')) })
        default:
          return new Response('not a tiercache coordinator request', { status: 404 })
      }
    } catch (error) {
      return new Response(error instanceof Error ? error.message : String(error), { status: 400 })
    }
  }

  /** Drops tag records past their tagTtl (every entry carrying them has expired by then). */
  async alarm(): Promise<void> {
    const now = Date.now()
    let startAfter: string | undefined
    for (;;) {
      const page = await this.#storage.list<[number, number]>(startAfter === undefined ? { prefix: TAG, limit: 1_000 } : { prefix: TAG, startAfter, limit: 1_000 })
      const expired: string[] = []
      for (const [key, record] of page) if (record[1] <= now) expired.push(key)
      for (let i = 0; i < expired.length; i += STORAGE_BATCH) await this.#storage.delete(expired.slice(i, i + STORAGE_BATCH))
      if (page.size < 1_000) break
      startAfter = [...page.keys()].pop()
    }
    const left = await this.#storage.list({ prefix: TAG, limit: 1 })
    if (left.size > 0) await this.#storage.setAlarm(now + SWEEP_EVERY_MS)
  }

  async #current(): Promise<number> {
    this.#stamp ??= (await this.#storage.get<number>('stamp')) ?? 0
    return this.#stamp
  }

  /** Clock role: a new stamp, greater than every stamp issued before and than what the caller knows. */
  async #issue(known: number): Promise<number> {
    const last = await this.#current()
    let stamp = Math.max(last + 1, Date.now(), known + 1)
    if (!Number.isSafeInteger(stamp)) stamp = last + 1
    this.#stamp = stamp
    await this.#storage.put({ stamp })
    return stamp
  }

  /** Shard role: the stamps of `tags` (0 for never invalidated), and the greatest stamp recorded here. */
  async #read(tags: string[]): Promise<{ stamp: number; tags: number[] }> {
    const now = Date.now()
    const records = await this.#records(tags)
    return { stamp: await this.#current(), tags: tags.map((tag) => live(records.get(TAG + tag), now)) }
  }

  /** Shard role: raises each tag to `stamp` (never lowers it), kept `ttl` ms. */
  async #raise(tags: string[], stamp: number, ttl: number): Promise<number> {
    const now = Date.now()
    const records = await this.#records(tags)
    const writes: Record<string, [number, number]> = {}
    let count = 0
    for (const tag of tags) {
      const key = TAG + tag
      const previous = live(records.get(key), now)
      if (previous < stamp) {
        writes[key] = [stamp, now + ttl]
        count++
      }
    }
    const greatest = Math.max(await this.#current(), stamp)
    this.#stamp = greatest
    if (count > 0) {
      const keys = Object.keys(writes)
      for (let i = 0; i < keys.length; i += STORAGE_BATCH) {
        const batch: Record<string, unknown> = {}
        for (const key of keys.slice(i, i + STORAGE_BATCH)) batch[key] = writes[key]
        await this.#storage.put(batch)
      }
      await this.#storage.put({ stamp: greatest })
      if ((await this.#storage.getAlarm()) === null) await this.#storage.setAlarm(now + SWEEP_EVERY_MS)
    }
    return greatest
  }

  async #records(tags: string[]): Promise<Map<string, [number, number]>> {
    const keys = tags.map((tag) => TAG + tag)
    const out = new Map<string, [number, number]>()
    for (let i = 0; i < keys.length; i += STORAGE_BATCH) {
      for (const [key, value] of await this.#storage.get<[number, number]>(keys.slice(i, i + STORAGE_BATCH))) out.set(key, value)
    }
    return out
  }

  /**
   * Lock role: the lock, the holder's shared entry, or (waiting at most `wait`) what the holder did. With no holder,
   * a caller whose read found an entry created at `have` (0: none) gets the last holder's shared entry when that one
   * is newer and was released less than RECENT_MS ago: its read began before that holder wrote.
   */
  async #acquire(key: string, ttl: number, wait: number, have: number | undefined): Promise<Response> {
    const held = this.#locks.get(key)
    if (held === undefined) {
      const recent = have === undefined || have === 0 ? undefined : this.#recent.get(key)
      if (recent !== undefined) {
        if (recent.until > Date.now() && recent.created > (have as number)) return lockResponse({ status: 'shared', text: recent.text })
        if (recent.until <= Date.now()) this.#forget(key)
      }
      const token = crypto.randomUUID()
      const timer = setTimeout(() => this.#expire(key, token), ttl)
      this.#locks.set(key, { token, shared: undefined, created: undefined, waiters: new Set(), timer })
      return lockResponse({ status: 'acquired' }, token)
    }
    if (held.shared !== undefined) return lockResponse({ status: 'shared', text: held.shared })
    if (wait === 0) return lockResponse({ status: 'timeout' })
    const outcome = await new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => done({ status: 'timeout' }), wait)
      const done = (o: Outcome): void => {
        clearTimeout(timer)
        held.waiters.delete(done)
        resolve(o)
      }
      held.waiters.add(done)
    })
    return lockResponse(outcome)
  }

  #share(key: string, token: string, text: string, created: number | undefined): boolean {
    const held = this.#locks.get(key)
    if (held === undefined || held.token !== token || text.length === 0) return false
    held.shared = text
    held.created = created
    for (const waiter of [...held.waiters]) waiter({ status: 'shared', text })
    return true
  }

  #release(key: string, token: string): boolean {
    const held = this.#locks.get(key)
    if (held === undefined || held.token !== token) return false
    clearTimeout(held.timer)
    this.#locks.delete(key)
    if (held.shared !== undefined && held.created !== undefined) {
      this.#forget(key)
      this.#recent.set(key, { text: held.shared, created: held.created, until: Date.now() + RECENT_MS })
      this.#recentChars += held.shared.length
      while (this.#recent.size > MAX_RECENT || this.#recentChars > MAX_RECENT_CHARS) this.#forget(this.#recent.keys().next().value as string)
    }
    for (const waiter of [...held.waiters]) waiter({ status: 'released' })
    return true
  }

  #forget(key: string): void {
    const recent = this.#recent.get(key)
    if (recent === undefined) return
    this.#recent.delete(key)
    this.#recentChars -= recent.text.length
  }

  /** A holder that never released: its waiters load themselves now. */
  #expire(key: string, token: string): void {
    this.#release(key, token)
  }
}

function lockResponse(outcome: Outcome | { status: 'acquired' }, token?: string): Response {
  const headers: Record<string, string> = { [LOCK_HEADER]: outcome.status }
  if (token !== undefined) headers[TOKEN_HEADER] = token
  return new Response(outcome.status === 'shared' ? outcome.text : null, { headers })
}

/** A tag record's stamp while it lives, else 0. */
function live(record: [number, number] | undefined, now: number): number {
  return record !== undefined && record[1] > now ? record[0] : 0
}

function param(url: URL, name: string): string {
  const value = url.searchParams.get(name)
  if (value === null || value === '') throw new Error(`missing ${name}`)
  return value
}

/** A non-negative integer query parameter, or undefined when absent. */
function optionalNumber(url: URL, name: string): number | undefined {
  const value = url.searchParams.get(name)
  if (value === null) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be an integer >= 0`)
  return n
}

function numberField(body: unknown, name: string): number {
  const value = (body as Record<string, unknown> | null)?.[name]
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number >= 0`)
  return value
}

function tagsField(body: unknown): string[] {
  const tags = (body as { tags?: unknown } | null)?.tags
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) throw new Error('tags must be an array of strings')
  return tags
}

function clamp(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) throw new Error('not a number')
  return Math.min(max, Math.max(min, Math.round(value)))
}
