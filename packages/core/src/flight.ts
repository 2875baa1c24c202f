// Work that concurrent callers share ("in flight"), safe where each caller lives in a request of its own.
//
// Workers (workerd) run many requests in one isolate and keep a request alive only while it has something of
// its own pending (I/O, a timer, waitUntil work). A request that waits on a promise only another request can
// settle has nothing pending: the runtime cancels it as hung, and when the owner's request ends first, the
// owner's timers never fire and its I/O is cancelled, so the promise never settles at all. Hence:
// - the owner hands the work to its own waitUntil, so the work finishes even after the owner has answered;
// - while the work runs, the owner beats (a timer of its own request: it fires only while that request lives);
// - a joiner waits with a timer of its own, which keeps its request alive, and redoes the work itself once the
//   owner stopped beating (its request is gone, and with it the work);
// - an owner that beats but whose work is stuck (it awaits something that will never settle, or not in time) is
//   waited on only until the flight's deadline, derived by the engine from the cache's own timeouts (tier timeout,
//   lockWait, the loader's hardTimeout): then joiners do the work themselves, and later callers start anew;
// - shared work older than FLIGHT_OLD_MS is reported once (console.warn, naming the key and what it was doing), so
//   that a long wait explains itself.
// Without a host (no waitUntil: Node, browsers, tests) there are no request lifetimes: nothing beats and a joiner
// simply awaits the work.
import type { WaitUntil } from './engine/background.js'
import type { TimerHandle } from './runtime.js'

declare const setTimeout: (callback: () => void, ms: number) => TimerHandle
declare const clearTimeout: (handle: TimerHandle | undefined) => void
declare const console: { warn(...data: unknown[]): void }

/** How often an owner beats while its work runs. */
export const FLIGHT_BEAT_MS = 200
/** An owner silent for this long is gone: joiners stop waiting for its work. */
export const FLIGHT_DEAD_AFTER_MS = 1_500
/** How often a joiner looks at the owner's heartbeat (its own timer, which also keeps its request alive). */
const CHECK_MS = 250
/**
 * In a flight's deadline, a step with no timeout of its own (a loader without hardTimeout, tiers with tierTimeout 0)
 * counts this long.
 */
export const FLIGHT_STEP_MS = 10_000
/** Added to a flight's deadline for timers that run late on a busy machine. */
export const FLIGHT_SLACK_MS = 2_000
/** Shared work running for this long is reported once (console.warn): nothing the cache does should take that long. */
export const FLIGHT_OLD_MS = 10_000

/** The liveness of one piece of shared work; the records that share work carry these two fields. */
export interface Flight {
  /** Date.now() of the owner's last heartbeat; undefined when its owner has no host and does not beat. */
  beat: number | undefined
  /** True once the work has settled. */
  done: boolean
  /**
   * Date.now() after which joining no longer pays off even while the owner beats (its work is stuck): joiners do the
   * work themselves. Undefined: no deadline (no host, or an unbounded flight).
   */
  until?: number
  /** The key of the shared work, for the report of old work. */
  key?: string
  /** What the shared work is doing now ('read', 'lock', 'loader', ...), for the report of old work. */
  phase?: string
}

/** What an owner says about its flight: how long joiners may wait for it, and what to name it by. */
export interface FlightBound {
  /** ms from the start after which joiners stop waiting (Infinity: only the heartbeat ends the wait). */
  bound: number
  /** The key (or the first key of a batch) the work is for. */
  key: string
  /** What the work is doing first, unless the owner said already (Flight.phase). */
  phase: string
}

/**
 * Makes the caller the owner of `work` shared through `flight`: marks the flight done when the work settles and,
 * with a host, hands the work to it (rejections absorbed) and beats until then. With `about`, joiners wait at most
 * `about.bound` ms from now (with a host), and work still running after FLIGHT_OLD_MS is reported once.
 */
export function ownFlight(flight: Flight, work: Promise<unknown>, waitUntil: WaitUntil | undefined, about?: FlightBound): void {
  const settled = work.then(noop, noop)
  if (waitUntil === undefined) {
    void settled.then(() => {
      flight.done = true
    })
    return
  }
  const started = Date.now()
  flight.beat = started
  if (about !== undefined) {
    flight.key = about.key
    flight.phase ??= about.phase
    if (about.bound < Infinity) flight.until = started + about.bound
  }
  let timer: TimerHandle | undefined
  let reported = false
  const tick = (): void => {
    if (flight.done) return
    const now = Date.now()
    flight.beat = now
    if (!reported && now - started >= FLIGHT_OLD_MS) {
      reported = true
      reportOld(flight, now, started)
    }
    timer = setTimeout(tick, FLIGHT_BEAT_MS)
    timer.unref?.()
  }
  timer = setTimeout(tick, FLIGHT_BEAT_MS)
  timer.unref?.()
  void settled.then(() => {
    flight.done = true
    clearTimeout(timer)
  })
  try {
    waitUntil(settled)
  } catch {
    // A host that refuses more work (its request ended) leaves it to run on its own: the heartbeat tells.
  }
}

/**
 * Whether joining `flight` can still pay off: its work has not settled, its owner, if it beats, still does, and its
 * deadline has not passed.
 */
export function flightAlive(flight: Flight): boolean {
  if (flight.done) return false
  if (flight.beat === undefined) return true
  const now = Date.now()
  return now - flight.beat < FLIGHT_DEAD_AFTER_MS && (flight.until === undefined || now < flight.until)
}

/** The one report of shared work that runs too long: which key, what it was doing, for how long. */
function reportOld(flight: Flight, now: number, started: number): void {
  const { until } = flight
  const deadline = until === undefined ? '' : until > now ? `; joiners stop waiting for it in ${Math.ceil((until - now) / 1000)} s` : '; joiners no longer wait for it'
  console.warn(
    `tiercache: shared work for key ${JSON.stringify(flight.key ?? '?')} has run ${Math.round((now - started) / 1000)} s (phase: ${flight.phase ?? 'unknown'})${deadline}`,
  )
}

const GONE = Symbol('gone')

/**
 * Waits for `work` of another caller, shared through `flight`. With a host (`waitUntil`: the caller lives in a
 * request of its own) the wait keeps a timer of the caller's own, and once the owner has stopped beating, or the
 * flight's deadline passed, while the work is unsettled, resolves with `redo()` instead: the caller does the work
 * itself. Without a host it is `work` itself.
 */
export async function joinFlight<T>(flight: Flight, work: Promise<T>, waitUntil: WaitUntil | undefined, redo: () => Promise<T>): Promise<T> {
  if (waitUntil === undefined) return work
  let timer: TimerHandle | undefined
  const gone = new Promise<typeof GONE>((resolve) => {
    const check = (): void => {
      if (flightAlive(flight) || flight.done) {
        timer = setTimeout(check, CHECK_MS)
        timer.unref?.()
      } else resolve(GONE)
    }
    timer = setTimeout(check, CHECK_MS)
    timer.unref?.()
  })
  // Everything awaited here was made by this caller, so it settles in this caller's request.
  const outcome = await Promise.race([work.then((value) => ({ value }), (error: unknown) => ({ error })), gone])
  clearTimeout(timer)
  if (outcome === GONE) return redo()
  if ('error' in outcome) throw outcome.error
  return outcome.value
}

function noop(): void {}
