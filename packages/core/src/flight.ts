// Work that concurrent callers share ("in flight"), safe where each caller lives in a request of its own.
//
// Workers (workerd) run many requests in one isolate and keep a request alive only while it has something of
// its own pending (I/O, a timer, waitUntil work). A request that waits on a promise only another request can
// settle has nothing pending: the runtime cancels it as hung, and when the owner's request ends first, the
// owner's timers never fire and its I/O is cancelled, so the promise never settles at all. Hence:
// - the owner hands the work to its own waitUntil, so the work finishes even after the owner has answered;
// - while the work runs, the owner beats (a timer of its own request: it fires only while that request lives);
// - a joiner waits with a timer of its own, which keeps its request alive, and redoes the work itself once the
//   owner stopped beating (its request is gone, and with it the work).
// Without a host (no waitUntil: Node, browsers, tests) there are no request lifetimes: nothing beats and a joiner
// simply awaits the work.
import type { WaitUntil } from './engine/background.js'
import type { TimerHandle } from './runtime.js'

declare const setTimeout: (callback: () => void, ms: number) => TimerHandle
declare const clearTimeout: (handle: TimerHandle | undefined) => void

/** How often an owner beats while its work runs. */
export const FLIGHT_BEAT_MS = 200
/** An owner silent for this long is gone: joiners stop waiting for its work. */
export const FLIGHT_DEAD_AFTER_MS = 1_500
/** How often a joiner looks at the owner's heartbeat (its own timer, which also keeps its request alive). */
const CHECK_MS = 250

/** The liveness of one piece of shared work; the records that share work carry these two fields. */
export interface Flight {
  /** Date.now() of the owner's last heartbeat; undefined when its owner has no host and does not beat. */
  beat: number | undefined
  /** True once the work has settled. */
  done: boolean
}

/**
 * Makes the caller the owner of `work` shared through `flight`: marks the flight done when the work settles and,
 * with a host, hands the work to it (rejections absorbed) and beats until then.
 */
export function ownFlight(flight: Flight, work: Promise<unknown>, waitUntil: WaitUntil | undefined): void {
  const settled = work.then(noop, noop)
  if (waitUntil === undefined) {
    void settled.then(() => {
      flight.done = true
    })
    return
  }
  flight.beat = Date.now()
  let timer: TimerHandle | undefined
  const tick = (): void => {
    if (flight.done) return
    flight.beat = Date.now()
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

/** Whether joining `flight` can still pay off: its work has not settled and its owner, if it beats, still does. */
export function flightAlive(flight: Flight): boolean {
  return !flight.done && (flight.beat === undefined || Date.now() - flight.beat < FLIGHT_DEAD_AFTER_MS)
}

const GONE = Symbol('gone')

/**
 * Waits for `work` of another caller, shared through `flight`. With a host (`waitUntil`: the caller lives in a
 * request of its own) the wait keeps a timer of the caller's own, and once the owner has stopped beating while
 * the work is unsettled, resolves with `redo()` instead: the caller does the work itself. Without a host it is
 * `work` itself.
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
