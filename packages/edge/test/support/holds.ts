// For the cross-isolate tests: gates, a bounded wait, and a tier whose next read answer or next delete a test holds.
import type { Entry, ReadIntent, Store } from '@tiercache/core'
import { sleep } from './services'

/** A promise and its resolver. */
export function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { open, opened }
}

/** Runs until `check` holds (polled every 5 ms), at most `ms`. */
export async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const t0 = Date.now()
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`condition not met within ${ms} ms`)
    await sleep(5)
  }
}

/** What a test may hold up in an isolate's shared tier: the answer of its next read, its next delete. */
export interface Holds {
  /** Set to hold the answer of the next read (the store has run it) until `release` resolves; `ran` is called first. */
  read?: { ran: () => void; release: Promise<void> }
  /** Set to hold the next delete (before it is sent) until `release` resolves. */
  del?: { release: Promise<void> }
}

/**
 * `store` with its next read answer and next delete held as `holds` says. `loadsOnly`: only a read that a load
 * follows (core passes a ReadIntent) is held.
 */
export function holdable(store: Store, holds: Holds, loadsOnly = false): Store {
  return {
    ...store,
    async get(key: string, intent?: ReadIntent): Promise<Entry | undefined> {
      const entry = await store.get(key, intent)
      const read = holds.read
      if (read !== undefined && (!loadsOnly || intent !== undefined)) {
        holds.read = undefined
        read.ran()
        await read.release
      }
      return entry
    },
    async delete(key: string): Promise<void> {
      const del = holds.del
      if (del !== undefined) {
        holds.del = undefined
        await del.release
      }
      await store.delete(key)
    },
  }
}
