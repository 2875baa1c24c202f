/**
 * Fills an IndexedDB tier with many persisted entries in one transaction per 500, the way a long-used app would
 * have them, faster than as many cache.set calls (what is measured is the reload, not the filling).
 */
import { namespacePrefix, type Cache } from '@tiercache/core'
import { createEntry } from '@tiercache/core/store'
import type { IndexedDbStore } from '../../../src/index.js'

export async function seed(cache: Cache, idb: IndexedDbStore, items: readonly (readonly [key: string, value: unknown, tags: readonly string[]])[]): Promise<void> {
  const prefix = namespacePrefix(cache.namespace)
  const now = Date.now()
  for (let at = 0; at < items.length; at += 500) {
    await idb.setMany(
      items.slice(at, at + 500).map(([key, value, tags]) => {
        const policy = cache.resolvePolicy({ ttl: '1h', tags: [...tags] })
        return [prefix + key, createEntry(value, policy, now, 1, Math.random)] as const
      }),
    )
  }
}

/** Main-thread long tasks (over 50 ms) since the page started: their count, the longest, and the blocking time (sum of the parts over 50 ms). */
export function longTasks(): () => { count: number; longest: number; blocking: number } {
  const tasks: number[] = []
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) tasks.push(entry.duration)
    }).observe({ type: 'longtask', buffered: true })
  } catch {
    // No Long Tasks API: nothing to report.
  }
  return () => ({ count: tasks.length, longest: Math.max(0, ...tasks), blocking: tasks.reduce((sum, d) => sum + Math.max(0, d - 50), 0) })
}
