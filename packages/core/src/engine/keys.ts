import { assertKey } from '../validate.js'

/** What the cache puts before every key and tag of `namespace`. */
export function prefixOf(namespace: string): string {
  return namespace === '' ? '' : `${namespace}:`
}

/** The cache's namespace prefix on keys: checks a key, adds the prefix (memoized), takes it off again. */
export class Keys {
  /** `namespace:`, or '' without a namespace. */
  readonly prefix: string
  /** Longest key, prefix included. */
  readonly max: number
  readonly #memo = new Map<string, string>()

  constructor(namespace: string, maxKeyLength: number) {
    this.prefix = prefixOf(namespace)
    this.max = maxKeyLength
  }

  /** The stored key of `key`; throws naming `name` when it is not a valid key. */
  full(key: string, name: string): string {
    if (typeof key !== 'string' || key.length === 0 || key.length + this.prefix.length > this.max) this.bad(key, name)
    return this.prefix === '' ? key : this.prefixed(key)
  }

  /**
   * prefix + key, memoized: the caller's key string carries a cached hash, a fresh concatenation must be hashed
   * (and flattened) again on every lookup, which costs more than the rest of a hit.
   */
  prefixed(key: string): string {
    let full = this.#memo.get(key)
    if (full === undefined) {
      if (this.#memo.size >= 10_000) this.#memo.clear()
      full = this.prefix + key
      this.#memo.set(key, full)
    }
    return full
  }

  bad(key: unknown, name: string): never {
    assertKey(key, name, this.max - this.prefix.length)
    throw new RangeError(`${name} is invalid`)
  }

  /** The key as the caller gave it. */
  unprefix(full: string): string {
    return this.prefix !== '' && full.startsWith(this.prefix) ? full.slice(this.prefix.length) : full
  }
}
