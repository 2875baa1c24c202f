import type { Entry } from '../entry.js'
import { withFields, type Policy, type ResolvedPolicy } from '../policy.js'
import type { Tiers } from '../tiered.js'
import type { Background, WaitUntil } from './background.js'
import type { Keys } from './keys.js'
import type { Loader } from './loader.js'
import type { Loads } from './loads.js'
import { served, type Extend, type Policies } from './policies.js'
import type { ReadPath } from './read-path.js'
import type { WriteOrder } from './write-order.js'

/** What a strategy (and warm()) may use of the engine of one cache. */
export interface Host {
  readonly keys: Keys
  readonly policies: Policies
  readonly tiers: Tiers
  readonly reads: ReadPath
  readonly loads: Loads
  readonly order: WriteOrder
  readonly background: Background
  now(): number
}

/** A fresh hit, as a strategy sees it; `loader` is undefined for `get()`. */
export interface Hit {
  readonly key: string
  readonly full: string
  readonly loader: Loader<unknown> | undefined
  readonly p: ResolvedPolicy
  readonly waitUntil: WaitUntil | undefined
}

/** What an installed strategy plugs into the read path. */
export interface Hooks {
  /** Each key a caller reads (getOrSet, get, getManyOrSet), hit or miss. */
  read?(key: string): void
  /** A fresh hit of `entry` in tier `tier`, under a policy with `refreshAhead` or `sliding`. */
  fresh?(hit: Hit, entry: Entry, tier: number, now: number): void
  /** What `cache.hotKeys(n)` answers. */
  hotKeys?(n: number): { key: string; reads: number }[]
}

/**
 * Optional behaviour of a cache, installed with `createCache({ strategies: [...] })`: `refreshAhead()`,
 * `slidingExpiry()`, `hotKeys()`. Each is its own module, so an app bundles only the ones it imports.
 */
export interface Strategy {
  /** What it provides: the policy field it serves (`refreshAhead`, `sliding`) or `hotKeys`. */
  readonly name: 'refreshAhead' | 'sliding' | 'hotKeys'
}

/** A strategy as the engine sees it. */
export interface Installable extends Strategy {
  /** Checks the policy options it serves in `input` and resolves them over `base`; `ttl` is the resolved ttl. */
  policy?(input: Partial<Policy>, base: ResolvedPolicy | undefined, ttl: number, where: string): Partial<ResolvedPolicy>
  /** Its hooks in one engine: called once by createCache. */
  install(host: Host): Hooks
  /** `setup` below: carried by every strategy so that a cache without strategies bundles none of this module. */
  setup(strategies: readonly Installable[]): Setup
}

/** The strategies of one cache, set up: how its policies are resolved, and how they plug into its engine. */
export interface Setup {
  extend: Extend
  install(host: Host): Hooks
}

/**
 * Sets up a cache's strategies: each resolves the policy options it serves (an option whose strategy is missing
 * throws, naming it), and their hooks are chained.
 */
export function setup(strategies: readonly Installable[]): Setup {
  const names = new Set<string>(strategies.map((s) => s.name))
  return {
    extend(input, base, resolved, where) {
      served(input, names, where)
      let fields: Partial<ResolvedPolicy> | undefined
      for (const strategy of strategies) {
        const own = strategy.policy?.(input, base, resolved.ttl, where)
        if (own !== undefined) fields = { ...fields, ...own }
      }
      return fields === undefined ? resolved : withFields(resolved, fields)
    },
    install(host) {
      const all: Hooks = {}
      for (const strategy of strategies) {
        const { read, fresh, hotKeys } = strategy.install(host)
        if (read !== undefined) all.read = ((before) => (before === undefined ? read : (key: string) => (before(key), read(key))))(all.read)
        if (fresh !== undefined) {
          all.fresh = ((before) => (before === undefined ? fresh : (...args: Parameters<typeof fresh>) => (before(...args), fresh(...args))))(all.fresh)
        }
        if (hotKeys !== undefined) all.hotKeys = hotKeys
      }
      return all
    },
  }
}
