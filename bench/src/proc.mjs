// CPU time of other processes (workerd, Chromium), read from /proc: what a server spent per request, which is
// steadier on a shared machine than wall time. Linux only; callers show "n/a" when it returns undefined.
import { readFileSync, readdirSync } from 'node:fs'

/**
 * Pids of every live descendant of `root` whose command name (`/proc/<pid>/comm`) passes `match`.
 * @param {number} root
 * @param {(comm: string) => boolean} [match]
 * @returns {number[]}
 */
export function descendants(root, match = () => true) {
  /** @type {Map<number, number[]>} */
  const children = new Map()
  /** @type {Map<number, string>} */
  const comms = new Map()
  let entries
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      // "pid (comm) state ppid ...": comm may contain spaces and parentheses, so split after the last ')'.
      const close = stat.lastIndexOf(')')
      const comm = stat.slice(stat.indexOf('(') + 1, close)
      const ppid = Number(stat.slice(close + 2).split(' ')[1])
      const pid = Number(name)
      comms.set(pid, comm)
      children.set(ppid, [...(children.get(ppid) ?? []), pid])
    } catch {
      // the process ended while we looked
    }
  }
  /** @type {number[]} */
  const found = []
  const queue = [...(children.get(root) ?? [])]
  while (queue.length) {
    const pid = /** @type {number} */ (queue.shift())
    if (match(comms.get(pid) ?? '')) found.push(pid)
    queue.push(...(children.get(pid) ?? []))
  }
  return found
}

/**
 * Nanoseconds of CPU the process has used so far, all threads (sum of /proc/<pid>/task/<tid>/schedstat),
 * or undefined when it cannot be read.
 * @param {number[]} pids
 * @returns {number | undefined}
 */
export function cpuTimeNs(pids) {
  if (pids.length === 0) return undefined
  let total = 0
  try {
    for (const pid of pids) {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        try {
          total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
        } catch {
          // a thread that ended meanwhile: its time is lost from this sum only
        }
      }
    }
  } catch {
    return undefined
  }
  return Number.isFinite(total) ? total : undefined
}
