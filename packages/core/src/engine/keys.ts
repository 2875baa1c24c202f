import { namespacePrefix } from '../keys.js'
import type { SyncHint } from '../store.js'
import { assertKey, assertWellFormed } from '../validate.js'

/** A caller's key as stored (prefix + key), with the sync L1's note of where it lives (see Store.getSync). */
export interface KeyRef extends SyncHint {
  readonly full: string
}

/**
 * The cache's namespace prefix on keys: checks a key, adds the prefix (memoized), takes it off again. The prefix is
 * `namespacePrefix(namespace)`, never empty, so no key of one namespace can be read as a key of another.
 */
export class Keys {
  /** The escaped namespace and ':' (just ':' without a namespace). */
  readonly prefix: string
  /** Longest key, prefix included. */
  readonly max: number
  readonly #memo = new Map<string, KeyRef>()

  constructor(namespace: string, maxKeyLength: number) {
    this.prefix = namespacePrefix(namespace)
    this.max = maxKeyLength
  }

  /** The stored key of `key`; throws naming `name` when it is not a valid key. */
  full(key: string, name: string): string {
    if (typeof key !== 'string' || key.length === 0 || key.length + this.prefix.length > this.max) this.bad(key, name)
    return this.prefixed(key, name)
  }

  /**
   * prefix + key, memoized: the caller's key string carries a cached hash, a fresh concatenation must be hashed
   * (and flattened) again on every lookup, which costs more than the rest of a hit. A key is checked for lone
   * surrogates the first time it is seen (the memo holds only checked keys), so a hit pays nothing for it.
   * The caller has checked the type and length.
   */
  prefixed(key: string, name = 'key'): string {
    return this.ref(key, name).full
  }

  /** The memo record of `key` when it was seen (and checked) before; undefined for any other value. */
  known(key: unknown): KeyRef | undefined {
    return this.#memo.get(key as string)
  }

  /** The memo record of a checked key: its stored key, and the hint the sync L1 keeps in it. */
  ref(key: string, name = 'key'): KeyRef {
    let ref = this.#memo.get(key)
    if (ref === undefined) {
      assertWellFormed(key, name)
      if (this.#memo.size >= 10_000) this.#memo.clear()
      ref = { full: this.prefix + key, slot: -1 }
      this.#memo.set(key, ref)
    }
    return ref
  }

  bad(key: unknown, name: string): never {
    assertKey(key, name, this.max - this.prefix.length)
    throw new RangeError(`${name} is invalid`)
  }

  /** The key as the caller gave it. */
  unprefix(full: string): string {
    return full.startsWith(this.prefix) ? full.slice(this.prefix.length) : full
  }
}
