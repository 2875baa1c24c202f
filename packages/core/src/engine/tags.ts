import type { Coordinator } from '../coordinator.js'
import { withDeadline } from '../runtime.js'
import { noop } from './background.js'
import type { Instrumentation } from './instrumentation.js'
import { withSoft } from './soft.js'

/** What an entry's tags say about it. */
export const enum TagState {
  /** No tag was invalidated since the entry's load began. */
  Alive = 0,
  /** Only soft invalidations since: a fresh entry turns stale (see softState). */
  Soft = 1,
  /** A hard invalidation since: the entry must not be served. */
  Dead = 2,
}

/** Whether an entry's tags still allow serving it, asked of the coordinator; and recording invalidations. */
export class Tags {
  readonly coordinator: Coordinator
  /** Whether the coordinator keeps soft records (Coordinator.softRecords): without, every tag state is hard. */
  readonly soft: boolean
  readonly #inst: Instrumentation
  readonly #timeout: number

  constructor(coordinator: Coordinator, inst: Instrumentation, timeout: number) {
    this.coordinator = coordinator
    this.soft = coordinator.softRecords === true
    this.#inst = inst
    this.#timeout = timeout
  }

  /** true when no tag was invalidated (hard) after createdAt, false when one was, undefined when the answer is async. */
  alive(tags: readonly string[], createdAt: number): boolean | undefined {
    const at = this.#sync(tags)
    return at === undefined ? undefined : at < createdAt
  }

  /**
   * The state of a fresh entry, hard and soft records asked in one question; undefined when the answer is async
   * (the slow path asks again).
   */
  state(tags: readonly string[], createdAt: number): TagState | undefined {
    if (!this.soft) {
      const alive = this.alive(tags, createdAt)
      return alive === undefined ? undefined : alive ? TagState.Alive : TagState.Dead
    }
    const any = this.#sync(withSoft(tags))
    if (any === undefined) return undefined
    if (any < createdAt) return TagState.Alive
    const alive = this.alive(tags, createdAt)
    return alive === undefined ? undefined : alive ? TagState.Soft : TagState.Dead
  }

  async aliveAsync(tags: readonly string[], createdAt: number, key: string): Promise<boolean> {
    try {
      const at = this.coordinator.invalidatedAt(tags)
      if (typeof at === 'number') return at < createdAt
      // Bounded by the tier timeout, on a timer of this caller's own: a coordinator may share one read between
      // callers, and in Workers a read started by another request dies with that request.
      const timeout = this.#timeout
      const known = timeout > 0 ? withDeadline(at, timeout, () => {
        throw new Error(`no answer to invalidatedAt within ${timeout} ms`)
      }) : at
      return (await known) < createdAt
    } catch (error) {
      // Serving what the tiers hold beats failing the request; the failure is reported.
      this.#inst.coordinatorFailed(this.coordinator.name, error, key)
      return true
    }
  }

  /** state, answered asynchronously when it must be (a failing coordinator counts as Alive, and is reported). */
  async stateAsync(tags: readonly string[], createdAt: number, key: string): Promise<TagState> {
    if (!this.soft) return (await this.aliveAsync(tags, createdAt, key)) ? TagState.Alive : TagState.Dead
    try {
      if ((await this.coordinator.invalidatedAt(withSoft(tags))) < createdAt) return TagState.Alive
    } catch (error) {
      this.#inst.coordinatorFailed(this.coordinator.name, error, key)
      return TagState.Alive
    }
    // Usually answered from what the question above just read.
    return (await this.aliveAsync(tags, createdAt, key)) ? TagState.Soft : TagState.Dead
  }

  /** Records that entries carrying these (namespaced) tags created at or before `at` are dead. */
  invalidate(tags: readonly string[], at: number): Promise<void> {
    return this.coordinator.invalidateTags(tags, at)
  }

  #sync(tags: readonly string[]): number | undefined {
    try {
      const at = this.coordinator.invalidatedAt(tags)
      if (typeof at === 'number') return at
      // The slow path asks again and reports a failure; this answer is not used.
      at.then(undefined, noop)
      return undefined
    } catch {
      return undefined
    }
  }
}
