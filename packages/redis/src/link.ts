import type { Coordinator } from '@tiercache/core'

/** What a redisStore linked to a redisCoordinator needs from it. */
export interface StoreLink {
  /** The bus channel, or undefined when the coordinator runs without a bus. */
  readonly channel: string | undefined
  /** The bus message telling the other servers that these (full) keys were written or deleted. */
  keysMessage(keys: readonly string[]): string
  /** How long Redis keeps tag stamps: entries must not outlive it. */
  readonly tagTtl: number
  /** A counter of the key messages the bus heard; read before a read, passed to evictedSince after it. */
  heard(): number
  /** Whether another server wrote or deleted `key` since `heard`: what a read in flight got may be older. */
  evictedSince(key: string, heard: number): boolean
}

const links = new WeakMap<Coordinator, StoreLink>()

/** Registers the link of a coordinator made by redisCoordinator. */
export function registerLink(coordinator: Coordinator, link: StoreLink): void {
  links.set(coordinator, link)
}

/** The link of a coordinator made by redisCoordinator, or undefined for any other one. */
export function linkOf(coordinator: Coordinator): StoreLink | undefined {
  return links.get(coordinator)
}
