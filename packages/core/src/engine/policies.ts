import { resolvePolicy, type Policy, type ResolvedPolicy } from '../policy.js'

/** Resolves the policy fields the installed strategies serve, over what resolvePolicy made of the rest. */
export type Extend = (input: Partial<Policy>, base: ResolvedPolicy | undefined, resolved: ResolvedPolicy, where: string) => ResolvedPolicy

/** Throws when `input` sets an option served by a strategy not `installed`, naming the one to install. */
export function served(input: Partial<Policy>, installed: ReadonlySet<string> | undefined, where: string): void {
  for (const option of ['refreshAhead', 'sliding', 'maxAge'] as const) {
    const name = option === 'maxAge' ? 'sliding' : option
    if (input[option] !== undefined && input[option] !== false && installed?.has(name) !== true) {
      throw new TypeError(`${where}.${option} needs createCache({ strategies: [${name === 'sliding' ? 'slidingExpiry' : name}()] })`)
    }
  }
}

/** The cache's default policy and the policies of calls, resolved once per policy object. */
export class Policies {
  readonly defaults: ResolvedPolicy | undefined
  readonly #prefix: string
  readonly #resolved = new WeakMap<object, ResolvedPolicy>()
  /** The strategies' part of resolving; undefined without strategies. */
  readonly #extend: Extend | undefined

  /** `defaults` is options.policy as given. */
  constructor(defaults: Policy | undefined, tagPrefix: string, extend: Extend | undefined) {
    this.#prefix = tagPrefix
    this.#extend = extend
    this.defaults = defaults === undefined ? undefined : this.#make(defaults, 'options.policy')
  }

  /** `policy` resolved over the defaults; `where` names it in errors (a call's argument `policy` when not given). */
  resolve(policy: Partial<Policy> | undefined, where = 'policy'): ResolvedPolicy {
    if (policy === undefined) return resolvePolicy(undefined, this.defaults, where, this.#prefix)
    if (typeof policy === 'object' && policy !== null) {
      const known = this.#resolved.get(policy)
      if (known !== undefined) return known
    }
    const resolved = this.#make(policy, where)
    this.#resolved.set(policy, resolved)
    return resolved
  }

  #make(policy: Partial<Policy>, where: string): ResolvedPolicy {
    const base = this.defaults
    const resolved = resolvePolicy(policy, base, where, this.#prefix)
    if (this.#extend !== undefined) return this.#extend(policy, base, resolved, where)
    served(policy, undefined, where)
    return resolved
  }
}
