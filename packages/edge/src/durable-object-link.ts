/**
 * What a store linked to a durableObjectCoordinator (kvStore's `coordinator` option) tells it: the entry its last
 * read of a key found (its createdAt; 0 for none). The next lock request for the key sends it, and the key's object
 * answers with the entry the last holder shared when that one is newer: the reader's copy predates the holder's
 * write (issue 13: a read that began before another isolate's refresh wrote, judged after that refresh ended, would
 * otherwise take the lock and load again; KV's eventual consistency widens that window to about 60 s). In a file of
 * its own so that kvStore does not bring the coordinator into apps that do not use it.
 */
export interface ReadLink {
  read(key: string, createdAt: number): void
}

const links = new WeakMap<object, ReadLink>()

/** Links a coordinator to the stores given it. */
export function linkReads(coordinator: object, link: ReadLink): void {
  links.set(coordinator, link)
}

/** The read link of a coordinator made by durableObjectCoordinator, or undefined for any other one. */
export function readLinkOf(coordinator: object): ReadLink | undefined {
  return links.get(coordinator)
}
