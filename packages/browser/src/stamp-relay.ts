// The hand-over between broadcastInvalidation and the indexedDbCoordinator of its page, within one synchronous call
// (core calls Coordinator.invalidateTags, then emits the `invalidate` event, before its first await): the stamp an
// invalidation is issuing (so the message to the other tabs carries it), and the stamp a relayed invalidation adopts
// (so the other tab records the sender's stamp instead of issuing a later one, which would end the sender's newer
// loads early). Its own module, so that broadcastInvalidation does not bring the coordinator into a bundle.

/** The stamp an indexedDbCoordinator is issuing for an invalidation, and the database it records it in. */
export interface Issuing {
  db: string
  stamp: Promise<number>
}

let current: Issuing | undefined
let adopting: { db: string; stamp: number } | undefined

/** Called by the coordinator: what its invalidateTags is issuing, for the `invalidate` event that follows at once. */
export function issuing(db: string, stamp: Promise<number>): void {
  const mine: Issuing = { db, stamp }
  current = mine
  // Only for the event of this very call: nothing is left for a later one.
  queueMicrotask(() => {
    if (current === mine) current = undefined
  })
}

/** What the invalidateTags call just made in this call stack by an indexedDbCoordinator is issuing, once. */
export function takeIssuing(): Issuing | undefined {
  const taken = current
  current = undefined
  return taken
}

/**
 * Runs `invalidate` (which calls cache.invalidateTags) so that an indexedDbCoordinator on database `db` records
 * `stamp`, already issued and stored there by another tab, instead of issuing its own.
 */
export function adoptingStamp<T>(db: string, stamp: number, invalidate: () => T): T {
  adopting = { db, stamp }
  try {
    return invalidate()
  } finally {
    adopting = undefined
  }
}

/** Called by the coordinator: the stamp to adopt when a relay for its database is under way, once. */
export function adopted(db: string): number | undefined {
  const relay = adopting
  adopting = undefined
  return relay !== undefined && relay.db === db ? relay.stamp : undefined
}
