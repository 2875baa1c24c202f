import type { Coordinator } from '../coordinator.js'
import { noop } from './background.js'
import type { Instrumentation } from './instrumentation.js'

/** Whether an entry's tags still allow serving it, asked of the coordinator; and recording invalidations. */
export class Tags {
  readonly coordinator: Coordinator
  readonly #inst: Instrumentation

  constructor(coordinator: Coordinator, inst: Instrumentation) {
    this.coordinator = coordinator
    this.#inst = inst
  }

  /** true when no tag was invalidated after createdAt, false when one was, undefined when the answer is async. */
  alive(tags: readonly string[], createdAt: number): boolean | undefined {
    try {
      const at = this.coordinator.invalidatedAt(tags)
      if (typeof at === 'number') return at < createdAt
      // The slow path asks again and reports a failure; this answer is not used.
      at.then(undefined, noop)
      return undefined
    } catch {
      return undefined
    }
  }

  async aliveAsync(tags: readonly string[], createdAt: number, key: string): Promise<boolean> {
    try {
      return (await this.coordinator.invalidatedAt(tags)) < createdAt
    } catch (error) {
      // Serving what the tiers hold beats failing the request; the failure is reported.
      this.#inst.coordinatorFailed(this.coordinator.name, error, key)
      return true
    }
  }

  /** Records that entries carrying these (namespaced) tags created at or before `at` are dead. */
  invalidate(tags: readonly string[], at: number): Promise<void> {
    return this.coordinator.invalidateTags(tags, at)
  }
}
