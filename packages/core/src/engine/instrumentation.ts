import type { Entry } from '../entry.js'
import { CacheError, describeError } from '../errors.js'
import { Counters, type CacheEvent } from '../stats.js'
import { checkFunction } from '../duration.js'

/** The counters behind stats() and the listeners behind onEvent/subscribe, shared by every view of a cache. */
export class Instrumentation {
  readonly counters: Counters
  /** Whether anyone listens: checked before building an event on hot paths. */
  listening = false
  #listeners: ((event: CacheEvent) => void)[] = []
  readonly #now: () => number

  constructor(tierNames: readonly string[], now: () => number) {
    this.counters = new Counters(tierNames)
    this.#now = now
  }

  subscribe(listener: (event: CacheEvent) => void): () => void {
    checkFunction(listener, 'listener')
    this.#listeners = [...this.#listeners, listener]
    this.listening = true
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener)
      this.listening = this.#listeners.length > 0
    }
  }

  emit(event: CacheEvent): void {
    if (!this.listening) return
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A listener's failure must not break the request that triggered the event.
      }
    }
  }

  /**
   * A miss answered after all: by a stale entry (`reason`: the loader failed, or ran past the soft timeout), or, with
   * no reason, by a fresh entry a tier read brought after its timeout: recounted as a stale answer or a hit.
   */
  served(key: string, reason: 'error' | 'timeout' | undefined, entry: Entry, tierIndex: number): void {
    const counters = this.counters
    const hit = reason === undefined
    if (hit) counters.totalHits++
    else counters.totalStale++
    counters.totalMisses--
    if (tierIndex >= 0) counters.bump(hit ? counters.hits : counters.staleHits, tierIndex)
    if (this.listening) {
      const tier = tierIndex >= 0 ? counters.names[tierIndex] : undefined
      this.emit({ type: hit ? 'hit' : 'stale', key, tier, tierIndex: tierIndex >= 0 ? tierIndex : undefined, reason, entry, at: this.#now() } as CacheEvent)
    }
  }

  coordinatorFailed(name: string, error: unknown, key: string): void {
    const wrapped = new CacheError('COORDINATOR_ERROR', `coordinator ${name} failed: ${describeError(error)}`, { key, cause: error })
    this.emit({ type: 'error', key, error: wrapped, at: this.#now() })
  }
}
