// For the cross-isolate tests: gates, a bounded wait, a tier whose next read answer or next delete a test holds, and
// the races they force between isolates sharing a tier and a coordinator.
import type { Cache, Entry, ReadIntent, Store } from '@tiercache/core'
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
export async function until(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const t0 = Date.now()
  while (!(await check())) {
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

/** What refreshRace saw. */
export interface RefreshRace {
  /** A's first answer, before the invalidation (v1). */
  first: unknown
  /** A's answer during its refresh, and the loads run when it and its background work had ended, before B's answer. */
  a: unknown
  loadsAfterA: number
  /** B's answer. */
  b: unknown
  /** Loads so far. */
  loads(): number
  /** The loader both isolates used: `v1` before the invalidation, `v2` after. */
  load(): Promise<string>
}

/**
 * The cross-isolate refresh race: A loads 'p' (tag 'prices'), invalidates the tag (`mode`), and refreshes (holds the
 * lock, its loader gated) while B reads the old entry from the shared tier; B's answer is held (through `bHolds`, a
 * slow network) until A's refresh has ended: written, shared, released. B decides only then. `refreshing` runs once
 * A's loader runs, before B reads. Forced by gates, not by timing; each test asserts on what it returns.
 */
export async function refreshRace(mode: 'soft' | 'hard', a: Cache, b: Cache, bHolds: Holds, refreshing?: () => Promise<void>): Promise<RefreshRace> {
  let version = 1
  let loads = 0
  let loader = gate()
  loader.open()
  const load = async (): Promise<string> => {
    loads++
    const v = version
    await loader.opened
    return `v${v}`
  }
  const first = await a.getOrSet('p', load)
  await a.idle()
  version = 2
  loader = gate()
  await a.invalidateTags(['prices'], { mode })
  const aAnswer = a.getOrSet('p', load)
  await until(() => loads === 2)
  await refreshing?.()
  const bRead = gate()
  const bRelease = gate()
  bHolds.read = { ran: bRead.open, release: bRelease.opened }
  const bAnswer = b.getOrSet('p', load)
  await bRead.opened
  loader.open()
  const aValue = await aAnswer
  await a.idle()
  const loadsAfterA = loads
  bRelease.open()
  const bValue = await bAnswer
  await b.idle()
  return { first, a: aValue, loadsAfterA, b: bValue, loads: () => loads, load }
}

/**
 * A hard invalidation kills 'q' (tag 'prices'); B reads the dead entry from the shared tier, and any delete B sends
 * for it is held (through `bHolds`) until A has loaded and written 'q' anew. Then C asks for 'q'. Answers B's value
 * (none), C's (A's entry `v2`, unless a late delete removed it) and the loads in all.
 */
export async function lateDeleteRace(a: Cache, b: Cache, bHolds: Holds, c: Cache): Promise<{ b: unknown; c: unknown; loads: number }> {
  let loads = 0
  const load = async (): Promise<string> => `v${++loads}`
  await a.getOrSet('q', load)
  await a.idle()
  await a.invalidateTags(['prices'])
  const late = gate()
  bHolds.del = { release: late.opened }
  const bValue = await b.get('q')
  await a.getOrSet('q', load)
  await a.idle()
  late.open()
  await b.idle()
  bHolds.del = undefined
  return { b: bValue, c: await c.getOrSet('q', load), loads }
}
