import { CacheWrapper } from './cache-wrapper.js'
import { internals, type BatchLoader, type BatchPolicy, type Cache, type Loader, type WaitUntil } from './cache.js'
import { checkFunction, typeOf } from './duration.js'
import { KeyedQueue } from './engine/keyed-queue.js'
import type { GetManyOrSetOptions, GetOrSetOptions } from './engine/status.js'
import { MAX_TAG_LENGTH, type Policy } from './policy.js'
import { hashKey } from './stores/frequency-sketch.js'
import { namespacePrefix } from './keys.js'
import { assertKey, MAX_KEY_LENGTH } from './validate.js'

/**
 * The start of a key's own tag: `'%key:' + key`, or `'%key#' + a hash of the key` for a key too long for a tag (a
 * shared hash only invalidates more than needed). Policies given to withConsistentWrites may not carry tags that
 * start with it.
 */
export const KEY_TAG = '%key'

export interface ConsistentWritesOptions {
  /** The keys it covers; the others go to the cache as they are, at no cost. @default every key */
  keys?: (key: string) => boolean
}

/**
 * Consistent writes across processes: `cache` as a Cache whose `write()`, `delete()` and `expire()` of a key
 * leave no entry loaded before them served after they returned, in any process sharing the coordinator (the
 * delete-vs-update race, and two writers racing). Every entry of a covered key that goes through it (loaded,
 * refreshed, `set`) carries the key's own tag and the coordinator's stamp from before its loader ran; `write()`
 * persists, then invalidates that tag and deletes the key; `delete()` invalidates it too, `expire()` softly. Readers
 * check tag stamps, so this holds whatever order store calls land in, and with tiers that cannot compare-and-set.
 *
 * `write()` stores nothing: the next read loads what the database holds. Storing the written value would be right
 * only if this write was the last one the database committed, which only the database knows; a cluster-wide lock
 * cannot tell either, as a writer whose lock expired during a slow persist may still commit after the next holder.
 *
 * @example
 * const cache = withConsistentWrites(createCache({ tiers: [memoryStore(), redisStore({ client, coordinator })], coordinator, policy }))
 * await cache.write(`user:${id}`, user, (u) => db.users.update(id, u))
 */
export function withConsistentWrites(cache: Cache, options: ConsistentWritesOptions = {}): Cache {
  if (typeof cache !== 'object' || cache === null || typeof cache.invalidateTags !== 'function') {
    throw new TypeError(`cache must be a Cache (createCache(...)), got ${typeOf(cache)}`)
  }
  if (typeof options !== 'object' || options === null) throw new TypeError(`options must be an object like { keys }, got ${typeOf(options)}`)
  checkFunction(options.keys, 'options.keys', true)
  // Its key tags would reach the outer one as a caller's tags, refused on every covered read.
  if (cache instanceof ConsistentCache) throw new TypeError('cache must not be a withConsistentWrites cache already: wrap the cache createCache made once')
  return new ConsistentCache(cache, new KeyPolicies(options.keys ?? every))
}

function every(): boolean {
  return true
}

/** The tag of `key` (see KEY_TAG). */
export function keyTag(key: string): string {
  if (KEY_TAG.length + 1 + key.length <= MAX_TAG_LENGTH) return `${KEY_TAG}:${key}`
  // The memory store's key hash, twice with two seeds: 64 bits in all.
  const a = hashKey(key) >>> 0
  const b = hashKey(key, 0x01000193 ^ key.length) >>> 0
  return `${KEY_TAG}#${a.toString(36)}${b.toString(36)}`
}

/** Held at most per policy object, then forgotten at once (like core's key memo). */
const REMEMBERED = 10_000

/** The policy of each covered key: the caller's with the key's tag, one object per (policy, key) so core resolves it once. */
class KeyPolicies {
  readonly covers: (key: string) => boolean
  /** Writes of covered keys, one key at a time in call order (as the cache's own write() runs them). */
  readonly writes = new KeyedQueue()
  readonly #byPolicy = new WeakMap<object, Map<string, Partial<Policy>>>()
  readonly #byKey = new Map<string, Partial<Policy>>()

  constructor(covers: (key: string) => boolean) {
    this.covers = covers
  }

  /** `policy` for `key`: with its tag when covered (undefined stays the cache's default policy, plus the tag). */
  of(key: unknown, policy: Partial<Policy> | undefined, where = 'policy'): Partial<Policy> | undefined {
    if (typeof key !== 'string' || !this.covers(key)) return policy
    // The cache names the error (tags that are not an array would otherwise be dropped for the key's tag).
    if (policy !== undefined && (typeof policy !== 'object' || policy === null || (policy.tags !== undefined && !Array.isArray(policy.tags)))) {
      return policy
    }
    let memo = policy === undefined ? this.#byKey : this.#byPolicy.get(policy)
    if (memo === undefined) this.#byPolicy.set(policy as object, (memo = new Map()))
    let keyed = memo.get(key)
    if (keyed === undefined) {
      const tags = policy?.tags ?? []
      tags.forEach((tag: unknown, i) => {
        if (typeof tag === 'string' && tag.startsWith(KEY_TAG)) {
          throw new RangeError(`${where}.tags[${i}] must not start with '${KEY_TAG}': the tags of keys under withConsistentWrites start so`)
        }
      })
      keyed = { ...policy, tags: [...tags, keyTag(key)] }
      if (memo.size >= REMEMBERED) memo.clear()
      memo.set(key, keyed)
    }
    return keyed
  }
}

/** The Cache withConsistentWrites returns: the cache's own calls (CacheWrapper), with covered keys' policies and writes changed. */
class ConsistentCache extends CacheWrapper {
  readonly #keys: KeyPolicies

  constructor(cache: Cache, keys: KeyPolicies) {
    super(cache)
    this.#keys = keys
  }

  override getOrSet<V, S = V>(key: string, loader: Loader<V, S>, policy?: Partial<Policy>, options?: GetOrSetOptions): Promise<V | null> {
    return this.inner.getOrSet(key, loader, this.#keys.of(key, policy), options)
  }

  override set<V>(key: string, value: V | null | undefined, policy?: Partial<Policy>): Promise<void> {
    return this.inner.set(key, value, this.#keys.of(key, policy))
  }

  /**
   * Persists, then invalidates the key everywhere and deletes it from the tiers; stores nothing (see above). Writes
   * of one key through this cache run one after another in call order, like the cache's own.
   */
  override async write<V>(key: string, value: V, persist: (value: V) => unknown, policy?: Partial<Policy>): Promise<void> {
    if (!this.#covers(key)) return this.inner.write(key, value, persist, policy)
    checkFunction(persist, 'persist')
    this.inner.resolvePolicy(this.#keys.of(key, policy))
    await this.#keys.writes.run(key, async () => {
      await persist(value)
      await Promise.all([this.inner.invalidateTags([keyTag(key)]), this.inner.delete(key)])
    })
  }

  override async delete(key: string): Promise<void> {
    if (!this.#covers(key)) return this.inner.delete(key)
    await Promise.all([this.inner.invalidateTags([keyTag(key)]), this.inner.delete(key)])
  }

  /** Entries loaded before turn stale like the ones expire finds; dead with a coordinator that keeps no soft records. */
  override async expire(key: string): Promise<void> {
    if (!this.#covers(key)) return this.inner.expire(key)
    const tags = [keyTag(key)]
    const soft = this.inner.invalidateTags(tags, { mode: 'soft' }).catch((error: unknown) => {
      // The coordinator keeps no soft records (Coordinator.softRecords): a hard invalidation is the safe side.
      if (error instanceof TypeError) return this.inner.invalidateTags(tags)
      throw error
    })
    await Promise.all([soft, this.inner.expire(key)])
  }

  /**
   * Whether `key` is one it covers, checked then: bad input throws before the database or the coordinator is touched.
   */
  #covers(key: string): boolean {
    if (typeof key !== 'string' || !this.#keys.covers(key)) return false
    const keys = internals(this.inner)?.engine.host().keys
    // The cache's own rule (its options.maxKeyLength); the default one for a cache createCache did not make.
    if (keys !== undefined) keys.full(key, 'key')
    else assertKey(key, 'key', MAX_KEY_LENGTH - namespacePrefix(this.inner.namespace).length)
    return true
  }

  override getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy: BatchPolicy | undefined, options: GetManyOrSetOptions & { errors: unknown[] }): Promise<(V | null | undefined)[]>
  override getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy?: BatchPolicy, options?: GetManyOrSetOptions): Promise<(V | null)[]>
  override getManyOrSet<V>(keys: readonly string[], loadMany: BatchLoader<V>, policy?: BatchPolicy, options?: GetManyOrSetOptions): Promise<(V | null | undefined)[]> {
    if (!Array.isArray(keys) || !keys.some((key) => typeof key === 'string' && this.#keys.covers(key))) {
      return this.inner.getManyOrSet(keys, loadMany, policy, options)
    }
    const own = typeof policy === 'function' ? policy : () => policy
    const keyed = (key: string): Partial<Policy> | undefined => this.#keys.of(key, own(key), 'policy(key)')
    return this.inner.getManyOrSet(keys, loadMany, keyed, options)
  }

  withContext(context: { waitUntil?: WaitUntil | undefined }): Cache {
    return new ConsistentCache(this.inner.withContext(context), this.#keys)
  }
}
