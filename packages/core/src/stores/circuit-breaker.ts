import { parseOptionalDuration, typeOf, type Duration } from '../duration.js'
import type { Entry } from '../entry.js'
import { CacheError } from '../errors.js'
import { withDeadline } from '../runtime.js'
import type { Store } from '../store.js'

/** closed: calls go through. open: calls fail at once, without I/O. half-open: one probe call goes through. */
export type CircuitState = 'closed' | 'open' | 'half-open'

/** What onStateChange is told. */
export interface CircuitChange {
  /** The store's name. */
  tier: string
  state: CircuitState
  /** Consecutive failures so far. */
  failures: number
  /** For 'open': how long until the next probe, in ms. */
  cooldownMs?: number
  /** For 'open': the failure that opened (or re-opened) the circuit. */
  error?: unknown
  /** Clock time of the change. */
  at: number
}

export interface CircuitBreakerOptions {
  /** Consecutive failed or timed-out calls that open the circuit. @default 5 */
  failures?: number
  /** How long the circuit stays open before one probe call is let through. @default '500ms' */
  cooldown?: Duration
  /**
   * Each failed probe doubles the cooldown, up to this: the longest a recovered server waits to be used again.
   * @default '5s' (or the cooldown, when longer)
   */
  maxCooldown?: Duration
  /**
   * A call still unanswered after this long fails (for the caller and the breaker alike), so that a server that
   * accepts connections but never answers opens the circuit too. @default the store's `timeout`, else '1s'
   */
  callTimeout?: Duration
  /** Told when the circuit opens, half-opens or closes (exceptions it throws are ignored). */
  onStateChange?: (change: CircuitChange) => void
  /** Clock in ms. @default the clock of the cache it is given to, else Date.now */
  now?: () => number
}

/** A Store behind a circuit breaker; `circuit` tells its state. */
export interface GuardedStore extends Store {
  readonly circuit: CircuitState
}

/**
 * Wraps a store that talks to a server (Redis, Memcached, Upstash) in a circuit breaker: after `failures`
 * consecutive failures the store is not called at all for `cooldown` (calls fail at once, which core counts as a
 * miss plus an error event), then one probe call goes through; its success closes the circuit, its failure opens
 * it again for twice as long (up to `maxCooldown`). A dead server then costs nothing per request, and its client
 * queues nothing.
 *
 * @example
 * const l2 = circuitBreaker(someRemoteStore, { failures: 3, cooldown: '1s', onStateChange: (c) => log(c.tier, c.state) })
 */
export function circuitBreaker(store: Store, options: CircuitBreakerOptions = {}): GuardedStore {
  if (typeof store !== 'object' || store === null || typeof store.get !== 'function') {
    throw new TypeError(`circuitBreaker(store) needs a Store, got ${typeOf(store)}`)
  }
  const circuit = new Circuit(store.name, options, store.timeout)
  const call = <T>(operation: string, run: () => Promise<T>): Promise<T> => circuit.run(operation, run)

  const guarded: GuardedStore = {
    name: store.name,
    get circuit() {
      return circuit.state
    },
    get: (key, intent) => call('get', () => (intent === undefined ? store.get(key) : store.get(key, intent))),
    set: (key, entry) => call('set', () => store.set(key, entry)),
    delete: (key) => call('delete', () => store.delete(key)),
  }
  const extra = guarded as { -readonly [K in keyof Store]: Store[K] }
  if (store.maxTtl !== undefined) extra.maxTtl = store.maxTtl
  if (store.timeout !== undefined) extra.timeout = store.timeout
  if (store.maxValueBytes !== undefined) extra.maxValueBytes = store.maxValueBytes
  const { getMany, setMany, watch, useClock } = store
  if (getMany !== undefined) extra.getMany = (keys: readonly string[]) => call('getMany', () => getMany.call(store, keys))
  if (setMany !== undefined) {
    extra.setMany = (items: readonly (readonly [string, Entry])[]) => call('setMany', () => setMany.call(store, items))
  }
  if (watch !== undefined) extra.watch = (listener) => watch.call(store, listener)
  extra.useClock = (clock) => {
    circuit.useClock(clock)
    useClock?.call(store, clock)
  }
  return guarded
}

/**
 * The state machine behind circuitBreaker, for a store that guards several servers apart (one per node of a
 * Redis Cluster): `run` calls through it, `admit`/`succeeded`/`failed` for callers that batch.
 */
export class Circuit {
  readonly name: string
  readonly #threshold: number
  readonly #cooldown: number
  readonly #maxCooldown: number
  readonly #callTimeout: number
  readonly #notify: ((change: CircuitChange) => void) | undefined
  readonly #ownClock: boolean
  #now: () => number
  #state: CircuitState = 'closed'
  #failures = 0
  #openUntil = 0
  #currentCooldown: number
  #probing = false

  /** `name` names the guarded server in errors and changes; `timeout` is the default callTimeout. */
  constructor(name: string, options: CircuitBreakerOptions = {}, timeout?: number) {
    if (typeof options !== 'object' || options === null) throw new TypeError(`circuit breaker options must be an object, got ${typeOf(options)}`)
    const threshold = options.failures ?? 5
    if (!Number.isInteger(threshold) || threshold < 1) throw new RangeError(`options.failures must be an integer >= 1, got ${String(threshold)}`)
    const cooldown = parseOptionalDuration(options.cooldown, 'options.cooldown') ?? 500
    const maxCooldown = parseOptionalDuration(options.maxCooldown, 'options.maxCooldown') ?? Math.max(5_000, cooldown)
    if (cooldown <= 0) throw new RangeError(`options.cooldown must be longer than 0 ms, got ${cooldown}`)
    if (maxCooldown < cooldown) throw new RangeError(`options.maxCooldown (${maxCooldown} ms) must not be shorter than options.cooldown (${cooldown} ms)`)
    const callTimeout = parseOptionalDuration(options.callTimeout, 'options.callTimeout') ?? timeout ?? 1_000
    if (callTimeout <= 0) throw new RangeError(`options.callTimeout must be longer than 0 ms, got ${callTimeout}`)
    if (options.onStateChange !== undefined && typeof options.onStateChange !== 'function') {
      throw new TypeError(`options.onStateChange must be a function, got ${typeOf(options.onStateChange)}`)
    }
    if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError(`options.now must be a function, got ${typeOf(options.now)}`)
    this.name = name
    this.#threshold = threshold
    this.#cooldown = cooldown
    this.#currentCooldown = cooldown
    this.#maxCooldown = maxCooldown
    this.#callTimeout = callTimeout
    this.#notify = options.onStateChange
    this.#ownClock = options.now !== undefined
    this.#now = options.now ?? Date.now
  }

  /** closed, open, or half-open once an open circuit's cooldown has passed (the next call probes). */
  get state(): CircuitState {
    return this.#state === 'open' && !this.#probing && this.#now() >= this.#openUntil ? 'half-open' : this.#state
  }

  /** Adopts the cache's clock unless one was given. */
  useClock(clock: () => number): void {
    if (!this.#ownClock) this.#now = clock
  }

  /**
   * Whether a call may go out now: always when closed; when open, once per cooldown as the probe (then
   * `probe` is true and the call must end in succeeded(true) or failed(true)).
   */
  admit(): { probe: boolean } | undefined {
    if (this.#state === 'closed') return NOT_PROBE
    if (this.#probing || this.#now() < this.#openUntil) return undefined
    this.#probing = true
    this.#change('half-open')
    return PROBE
  }

  succeeded(probe: boolean): void {
    this.#failures = 0
    if (probe) {
      this.#probing = false
      this.#currentCooldown = this.#cooldown
      this.#change('closed')
    }
  }

  failed(probe: boolean, error: unknown): void {
    this.#failures++
    if (probe) {
      this.#probing = false
      this.#currentCooldown = Math.min(this.#currentCooldown * 2, this.#maxCooldown)
      this.#open(error)
    } else if (this.#state === 'closed' && this.#failures >= this.#threshold) {
      this.#open(error)
    }
  }

  /** The error a call refused by an open circuit fails with. */
  refusal(operation: string): CacheError {
    const wait = Math.max(0, Math.ceil(this.#openUntil - this.#now()))
    return new CacheError(
      'TIER_ERROR',
      `circuit open: ${this.name} failed ${this.#failures} times in a row; ${operation} not sent, next probe in ${wait} ms`,
      { tier: this.name },
    )
  }

  /** Runs `work` through the circuit, bounded by callTimeout; refused at once while open. */
  run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const admitted = this.admit()
    if (admitted === undefined) return Promise.reject(this.refusal(operation))
    const { probe } = admitted
    let running: Promise<T>
    try {
      running = work()
    } catch (error) {
      running = Promise.reject(error)
    }
    const bounded = withDeadline(running, this.#callTimeout, () => {
      throw new CacheError('TIER_TIMEOUT', `${this.name} did not answer ${operation} within ${this.#callTimeout} ms`, { tier: this.name })
    })
    bounded.then(
      () => this.succeeded(probe),
      (error: unknown) => this.failed(probe, error),
    )
    return bounded
  }

  #open(error: unknown): void {
    this.#openUntil = this.#now() + this.#currentCooldown
    this.#change('open', error)
  }

  #change(next: CircuitState, error?: unknown): void {
    this.#state = next
    const notify = this.#notify
    if (notify === undefined) return
    const event: CircuitChange = { tier: this.name, state: next, failures: this.#failures, at: this.#now() }
    if (next === 'open') {
      event.cooldownMs = this.#currentCooldown
      event.error = error
    }
    try {
      notify(event)
    } catch {
      // a listener's failure is not the store's
    }
  }
}

const PROBE = { probe: true }
const NOT_PROBE = { probe: false }
