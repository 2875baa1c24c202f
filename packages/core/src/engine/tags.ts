import type { ClockCoordinator, Coordinator } from '../coordinator.js'
import type { Entry } from '../entry.js'
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

/** What decides an entry's fate by its tags: its stamp, or for an entry without one, when it was created. */
type Dated = Pick<Entry, 'createdAt' | 'stamp'>

/**
 * Whether an entry's tags still allow serving it, asked of the coordinator; the stamp a load records; and
 * recording invalidations. With a stamp coordinator, an entry is dead when a tag's stamp is greater than the
 * entry's stamp (entries written without one compare with createdAt, as 0.1 did). A 0.1 clock coordinator
 * (`invalidatedAt`) keeps its rule: loads record no stamp, and createdAt is compared with invalidation times.
 * Soft records (see SOFT_TAG) follow the same rule as hard ones.
 */
export class Tags {
  readonly coordinator: Coordinator | ClockCoordinator
  /** Whether the coordinator keeps soft records (Coordinator.softRecords): without, every tag state is hard. */
  readonly soft: boolean
  readonly #stamps: Coordinator | undefined
  readonly #clock: ClockCoordinator | undefined
  readonly #inst: Instrumentation
  readonly #timeout: number

  constructor(coordinator: Coordinator | ClockCoordinator, inst: Instrumentation, timeout: number) {
    this.coordinator = coordinator
    this.soft = coordinator.softRecords === true
    if (typeof (coordinator as Coordinator).tagStamp === 'function') this.#stamps = coordinator as Coordinator
    else this.#clock = coordinator as ClockCoordinator
    this.#inst = inst
    this.#timeout = timeout
  }

  /**
   * The stamp a load starting now records: the greatest the coordinator knows, 0 when it cannot tell (safe: the
   * entry can only die early), undefined with a clock coordinator. A Promise only when the coordinator must ask and
   * `wait` is true: a load whose policy has no tags does not wait (only a tagged entry keeps its stamp); it gets the
   * stamp when known at once, else 0 while the question goes on, so that the next load knows the answer. (A loader
   * that adds tags through ctx.setPolicy then records 0: its entry may die early, once.)
   */
  stamp(key: string, wait = true): number | undefined | Promise<number | undefined> {
    const stamps = this.#stamps
    if (stamps === undefined) return undefined
    let known: number | Promise<number>
    try {
      known = stamps.stamp()
    } catch (error) {
      this.#inst.coordinatorFailed(stamps.name, error, key)
      return 0
    }
    if (typeof known === 'number') return checked(known)
    // Bounded like the tag questions (#bounded): in Workers a stamp read another request started dies with that
    // request, and a load must not wait on it for ever (0 is safe: the entry can only die early).
    const answer = Promise.resolve(this.#bounded(known)).then(checked, (error: unknown) => {
      this.#inst.coordinatorFailed(stamps.name, error, key)
      return 0
    })
    return wait ? answer : 0
  }

  /** true when no tag killed the entry (hard), false when one did, undefined when the answer is async. */
  alive(tags: readonly string[], entry: Dated): boolean | undefined {
    const at = this.#sync(tags)
    return at === undefined ? undefined : survives(at, entry)
  }

  /**
   * The state of a fresh entry, hard and soft records asked in one question; undefined when the answer is async
   * (the slow path asks again).
   */
  state(tags: readonly string[], entry: Dated): TagState | undefined {
    if (!this.soft) {
      const alive = this.alive(tags, entry)
      return alive === undefined ? undefined : alive ? TagState.Alive : TagState.Dead
    }
    const any = this.#sync(withSoft(tags))
    if (any === undefined) return undefined
    if (survives(any, entry)) return TagState.Alive
    const alive = this.alive(tags, entry)
    return alive === undefined ? undefined : alive ? TagState.Soft : TagState.Dead
  }

  async aliveAsync(tags: readonly string[], entry: Dated, key: string): Promise<boolean> {
    try {
      return survives(await this.#bounded(this.#ask(tags)), entry)
    } catch (error) {
      // Serving what the tiers hold beats failing the request; the failure is reported.
      this.#inst.coordinatorFailed(this.coordinator.name, error, key)
      return true
    }
  }

  /** state, answered asynchronously when it must be (a failing coordinator counts as Alive, and is reported). */
  async stateAsync(tags: readonly string[], entry: Dated, key: string): Promise<TagState> {
    if (!this.soft) return (await this.aliveAsync(tags, entry, key)) ? TagState.Alive : TagState.Dead
    try {
      if (survives(await this.#bounded(this.#ask(withSoft(tags))), entry)) return TagState.Alive
    } catch (error) {
      this.#inst.coordinatorFailed(this.coordinator.name, error, key)
      return TagState.Alive
    }
    // Usually answered from what the question above just read.
    return (await this.aliveAsync(tags, entry, key)) ? TagState.Soft : TagState.Dead
  }

  /** Records the invalidation of these (namespaced) tags; `at` (this process's clock) only for a clock coordinator. */
  invalidate(tags: readonly string[], at: number): Promise<unknown> {
    if (this.#stamps !== undefined) return this.#stamps.invalidateTags(tags)
    return (this.#clock as ClockCoordinator).invalidateTags(tags, at)
  }

  #ask(tags: readonly string[]): number | Promise<number> {
    return this.#stamps !== undefined ? this.#stamps.tagStamp(tags) : (this.#clock as ClockCoordinator).invalidatedAt(tags)
  }

  /**
   * An asynchronous answer bounded by the tier timeout, on a timer of this caller's own: a coordinator may share one
   * read between callers, and in Workers a read started by another request dies with that request (the soft
   * question once waited without this bound, and requests hung after a Redis restart).
   */
  #bounded(at: number | Promise<number>): number | Promise<number> {
    const timeout = this.#timeout
    if (typeof at === 'number' || !(timeout > 0)) return at
    return withDeadline(at, timeout, () => {
      throw new Error(`no answer to tagStamp within ${timeout} ms`)
    })
  }

  #sync(tags: readonly string[]): number | undefined {
    try {
      const at = this.#ask(tags)
      if (typeof at === 'number') return at
      // The slow path asks again and reports a failure; this answer is not used.
      at.then(undefined, noop)
      return undefined
    } catch {
      return undefined
    }
  }
}

/** Whether an entry outlives tags whose greatest stamp (or 0.1 invalidation time) is `at`. */
function survives(at: number, entry: Dated): boolean {
  const stamp = entry.stamp
  // Equal stamps: the invalidation was known when the load started. An entry without a stamp keeps 0.1's rule.
  return stamp !== undefined ? !(at > stamp) : at < entry.createdAt
}

/** A usable stamp: a finite number >= 0; anything else counts as 0 (the entry may only die early). */
function checked(stamp: unknown): number {
  return typeof stamp === 'number' && stamp >= 0 && stamp !== Infinity ? stamp : 0
}
