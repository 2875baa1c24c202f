/** Keys remembered at most; past it the memory is cleared and older reads are treated as overtaken. */
const REMEMBERED = 10_000

/**
 * The order of reads and writes of each key in this process. A read that found an entry in a lower tier copies it
 * into the tiers above; if the key was written (set, write-through, delete, a load storing its answer) after that
 * read started, the copy would put the older value back over the newer one, so it is skipped. Likewise a read that
 * found a stale entry starts no refresh when a load stored a newer one meanwhile (see `landing`).
 */
export class WriteOrder {
  #sequence = 0
  /** Reads that started before this were issued when writes now forgotten might have followed them. */
  #floor = 0
  readonly #last = new Map<string, number>()
  /** Per key, the createdAt of the entry a load stored as its last write (absent: the last write was another kind). */
  readonly #loaded = new Map<string, number>()
  /** Per key, how many of its writes (see landing) are still under way. */
  readonly #landing = new Map<string, number>()

  /** A token for a read starting now. */
  token(): number {
    return this.#sequence
  }

  /** Records a write of `full` happening now; `loaded`: the createdAt of the entry a load stores with it. */
  wrote(full: string, loaded?: number): void {
    const last = this.#last
    if (last.size >= REMEMBERED && !last.has(full)) {
      last.clear()
      this.#loaded.clear()
      this.#floor = this.#sequence + 1
    }
    last.set(full, ++this.#sequence)
    if (loaded !== undefined) this.#loaded.set(full, loaded)
    else if (this.#loaded.size !== 0) this.#loaded.delete(full)
  }

  /**
   * Records a load storing an entry created at `loaded`, starting now, that reaches the tiers when `written` settles.
   * Until then, and for every read begun before then, the key counts as overtaken: a read may still find the older
   * entry in a tier the write has not reached (a load's callers do not wait for its write; the load is over once it
   * answered).
   */
  landing(full: string, written: Promise<unknown>, loaded: number): void {
    this.wrote(full, loaded)
    const landing = this.#landing
    landing.set(full, (landing.get(full) ?? 0) + 1)
    const landed = (): void => {
      const left = (landing.get(full) ?? 1) - 1
      if (left > 0) landing.set(full, left)
      else landing.delete(full)
      if (this.#last.has(full)) this.#last.set(full, ++this.#sequence)
    }
    written.then(landed, landed)
  }

  /** Whether `full` was written after the read holding `token` started (or that can no longer be told), or is being written. */
  overtaken(full: string, token: number): boolean {
    return token < this.#floor || (this.#last.get(full) ?? 0) > token || (this.#landing.size !== 0 && this.#landing.has(full))
  }

  /**
   * Whether an entry created at `createdAt`, found by the read holding `token`, is older than what this process
   * wrote since that read began (or is writing now): overtaken, and not by a load storing that very entry (or an
   * older one).
   */
  superseded(full: string, token: number, createdAt: number): boolean {
    if (!this.overtaken(full, token)) return false
    const loaded = this.#loaded.get(full)
    return loaded === undefined || loaded > createdAt
  }
}
