import { resolvePolicy, type Policy, type ResolvedPolicy } from '../policy.js'

/** The cache's default policy and the policies of calls, resolved once per policy object. */
export class Policies {
  readonly defaults: ResolvedPolicy | undefined
  readonly #prefix: string
  readonly #resolved = new WeakMap<object, ResolvedPolicy>()

  constructor(defaults: ResolvedPolicy | undefined, tagPrefix: string) {
    this.defaults = defaults
    this.#prefix = tagPrefix
  }

  /** `policy` resolved over the defaults; `where` names it in errors. */
  resolve(policy: Partial<Policy> | undefined, where: string): ResolvedPolicy {
    if (policy === undefined) return resolvePolicy(undefined, this.defaults, where, this.#prefix)
    if (typeof policy === 'object' && policy !== null) {
      const known = this.#resolved.get(policy)
      if (known !== undefined) return known
    }
    const resolved = resolvePolicy(policy, this.defaults, where, this.#prefix)
    this.#resolved.set(policy, resolved)
    return resolved
  }
}
