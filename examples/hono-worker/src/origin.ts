/** A product of the demo catalogue. Prices are in cents. */
export interface Product {
  id: number
  name: string
  price: number
  stock: number
  /** Bumped by every update, so that a reader can tell fresh data from old. */
  version: number
  updatedAt: string
}

export interface OriginStats {
  /** Queries that reached the database, per cache key (`product:7`); a batch counts once for each of its ids. */
  calls: Record<string, number>
  /** Batch queries (one per `products(ids)` call). */
  batches: number
  /** Every query, single or batch. */
  total: number
  failing: boolean
}

export interface OriginOptions {
  /** Latency of one query in ms. @default a random 150-250 ms */
  latency?: () => number
  /** Number of products, ids 1..size. @default 50 */
  size?: number
}

/** Thrown by every query while the database is switched to failing. */
export class OriginDownError extends Error {
  override readonly name = 'OriginDownError'
}

const ADJECTIVES = ['Walnut', 'Linen', 'Copper', 'Oak', 'Wool', 'Ceramic', 'Brass', 'Canvas', 'Marble', 'Cork']
const THINGS = ['desk lamp', 'notebook', 'kettle', 'side table', 'blanket']

/** The cache key of a product: the same in every tier, route and origin counter. */
export const productKey = (id: number): string => `product:${id}`

/**
 * A deliberately slow database: every query waits 150-250 ms, can be switched to failing,
 * and counts the queries per key so that the demo can show what reached it.
 * State lives in the Worker isolate (one isolate under `wrangler dev`).
 */
export class Origin {
  readonly #products = new Map<number, Product>()
  readonly #calls = new Map<string, number>()
  readonly #latency: () => number
  #batches = 0
  #total = 0
  failing = false

  constructor(options: OriginOptions = {}) {
    this.#latency = options.latency ?? (() => 150 + Math.random() * 100)
    const size = options.size ?? 50
    const start = Date.parse('2026-01-01T00:00:00Z')
    for (let id = 1; id <= size; id++) {
      const name = `${ADJECTIVES[(id - 1) % ADJECTIVES.length]} ${THINGS[Math.floor((id - 1) / ADJECTIVES.length) % THINGS.length]}`
      this.#products.set(id, { id, name, price: 900 + ((id * 737) % 9100), stock: (id * 13) % 40, version: 1, updatedAt: new Date(start).toISOString() })
    }
  }

  /** The product, or null when there is no such id. */
  async product(id: number): Promise<Product | null> {
    await this.#query([id])
    return this.#products.get(id) ?? null
  }

  /** One query for several ids: products aligned with `ids`, null where there is none. */
  async products(ids: readonly number[]): Promise<(Product | null)[]> {
    this.#batches++
    await this.#query(ids)
    return ids.map((id) => this.#products.get(id) ?? null)
  }

  /** Changes price and stock (bumping the version); null when there is no such id. Writes are not counted as calls. */
  async update(id: number, change: Partial<Pick<Product, 'price' | 'stock'>>): Promise<Product | null> {
    await this.#wait()
    const current = this.#products.get(id)
    if (current === undefined) return null
    const next: Product = { ...current, ...change, version: current.version + 1, updatedAt: new Date().toISOString() }
    this.#products.set(id, next)
    return next
  }

  stats(): OriginStats {
    return { calls: Object.fromEntries(this.#calls), batches: this.#batches, total: this.#total, failing: this.failing }
  }

  async #query(ids: readonly number[]): Promise<void> {
    this.#total++
    for (const id of ids) this.#calls.set(productKey(id), (this.#calls.get(productKey(id)) ?? 0) + 1)
    await this.#wait()
  }

  async #wait(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.#latency()))
    if (this.failing) throw new OriginDownError('the database is down (simulated)')
  }
}
