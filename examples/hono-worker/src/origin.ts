// The demo's database: the products table in D1 (migrations/0001_products.sql, applied by the demo start), slowed
// down on purpose so that the tiers in front of it stay visible, countable, and switchable to failing.

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
  /** Every read query, single or batch (failed ones included). */
  total: number
  /** Rows D1 says it read for those queries (its `meta.rows_read`): the database's own count. */
  rowsRead: number
  failing: boolean
}

/** What the origin needs of a D1 database (the Worker's `env.DB`). */
export interface Database {
  prepare(query: string): Statement
}

/** What the origin needs of a D1 prepared statement. */
export interface Statement {
  bind(...values: unknown[]): Statement
  all<T = Record<string, unknown>>(): Promise<{ results: T[]; meta: { rows_read?: number } }>
}

export interface OriginOptions {
  /** Latency added before each query in ms. @default a random 150-250 ms */
  latency?: () => number
}

/** Thrown by every query while the database is switched to failing. */
export class OriginDownError extends Error {
  override readonly name = 'OriginDownError'
}

/** The cache key of a product: the same in every tier, route and origin counter. */
export const productKey = (id: number): string => `product:${id}`

const COLUMNS = 'id, name, price, stock, version, updated_at AS updatedAt'

/**
 * `ORIGIN_DELAY_MS` ('150-250', '0', '200') as a latency function; undefined for a value that is not one.
 * @default a random 150-250 ms when unset
 */
export function parseLatency(value: string | undefined): (() => number) | undefined {
  const range = /^(\d+)(?:-(\d+))?$/.exec(value ?? '150-250')
  if (range === null) return undefined
  const min = Number(range[1])
  const max = range[2] === undefined ? min : Math.max(min, Number(range[2]))
  return () => min + Math.random() * (max - min)
}

/**
 * The products table in D1, deliberately slow: every query waits first (150-250 ms by default), can be switched to
 * failing, and is counted per key so that the demo can show what reached it. The counters and the failing switch
 * live in the Worker isolate (one isolate under `wrangler dev`); the rows live in D1.
 */
export class Origin {
  readonly #calls = new Map<string, number>()
  readonly #latency: () => number
  #batches = 0
  #total = 0
  #rowsRead = 0
  failing = false

  constructor(options: OriginOptions = {}) {
    this.#latency = options.latency ?? (() => 150 + Math.random() * 100)
  }

  /** The product, or null when there is no such id. */
  async product(db: Database, id: number): Promise<Product | null> {
    const [row] = await this.#read(db, [id], `SELECT ${COLUMNS} FROM products WHERE id = ?`)
    return row ?? null
  }

  /** One query for several ids: products aligned with `ids`, null where there is none. */
  async products(db: Database, ids: readonly number[]): Promise<(Product | null)[]> {
    this.#batches++
    const rows = await this.#read(db, ids, `SELECT ${COLUMNS} FROM products WHERE id IN (${ids.map(() => '?').join(', ')})`)
    const byId = new Map(rows.map((row) => [row.id, row]))
    return ids.map((id) => byId.get(id) ?? null)
  }

  /** Changes price and stock (bumping the version); null when there is no such id. Writes are not counted as calls. */
  async update(db: Database, id: number, change: Partial<Pick<Product, 'price' | 'stock'>>): Promise<Product | null> {
    await this.#wait()
    const { results } = await db
      .prepare(
        `UPDATE products SET price = COALESCE(?, price), stock = COALESCE(?, stock), version = version + 1, updated_at = ? WHERE id = ? RETURNING ${COLUMNS}`,
      )
      .bind(change.price ?? null, change.stock ?? null, new Date().toISOString(), id)
      .all<Product>()
    return results[0] ?? null
  }

  stats(): OriginStats {
    return { calls: Object.fromEntries(this.#calls), batches: this.#batches, total: this.#total, rowsRead: this.#rowsRead, failing: this.failing }
  }

  async #read(db: Database, ids: readonly number[], query: string): Promise<Product[]> {
    this.#total++
    for (const id of ids) this.#calls.set(productKey(id), (this.#calls.get(productKey(id)) ?? 0) + 1)
    await this.#wait()
    const { results, meta } = await db
      .prepare(query)
      .bind(...ids)
      .all<Product>()
    this.#rowsRead += meta.rows_read ?? 0
    return results
  }

  async #wait(): Promise<void> {
    const ms = this.#latency()
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
    if (this.failing) throw new OriginDownError('the database is down (simulated)')
  }
}
