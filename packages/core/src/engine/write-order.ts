/** Keys remembered at most; past it the memory is cleared and older reads are treated as overtaken. */
const REMEMBERED = 10_000

/**
 * The order of reads and writes of each key in this process. A read that found an entry in a lower tier copies it
 * into the tiers above; if the key was written (set, write-through, delete) after that read started, the copy would
 * put the older value back over the newer one, so it is skipped.
 */
export class WriteOrder {
  #sequence = 0
  /** Reads that started before this were issued when writes now forgotten might have followed them. */
  #floor = 0
  readonly #last = new Map<string, number>()

  /** A token for a read starting now. */
  token(): number {
    return this.#sequence
  }

  /** Records a write of `full` happening now. */
  wrote(full: string): void {
    const last = this.#last
    if (last.size >= REMEMBERED && !last.has(full)) {
      last.clear()
      this.#floor = this.#sequence + 1
    }
    last.set(full, ++this.#sequence)
  }

  /** Whether `full` was written after the read holding `token` started (or that can no longer be told). */
  overtaken(full: string, token: number): boolean {
    return token < this.#floor || (this.#last.get(full) ?? 0) > token
  }
}
