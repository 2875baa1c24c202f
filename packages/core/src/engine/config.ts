import type { CodecPlan } from '../codec.js'
import type { ClockCoordinator, Coordinator } from '../coordinator.js'
import type { Policy } from '../policy.js'
import type { CacheEvent } from '../stats.js'
import type { Store } from '../store.js'
import type { WaitUntil } from './background.js'
import type { Installable } from './strategy.js'

/** The options of createCache, checked and resolved (durations in ms). */
export interface EngineConfig {
  stores: readonly Store[]
  namespace: string
  maxKeyLength: number
  /** options.policy as given. */
  policy: Policy | undefined
  coordinator: Coordinator | ClockCoordinator
  now: () => number
  /** The clock the caller injected, handed to stores that judge expiry themselves. */
  injectedNow: (() => number) | undefined
  random: () => number
  onEvent: ((event: CacheEvent) => void) | undefined
  waitUntil: WaitUntil | undefined
  tierTimeout: number
  lockTtl: number
  lockWait: number
  /** options.codec's plan: the tier layer running the codecs and the check of stored values. @default none */
  plan?: CodecPlan | undefined
  /** options.strategies, checked. @default none */
  strategies?: readonly Installable[] | undefined
}
