import Database from 'better-sqlite3'

/** A product of the demo catalogue, the shape the demo Worker serves too. Prices are in cents. */
export interface Product {
  id: number
  name: string
  price: number
  stock: number
  /** Bumped by every update, so that a reader can tell fresh data from old. */
  version: number
  updatedAt: string
}

/** The cache key of a product, the same as the demo Worker's, so that both share the entry and its tag. */
export const productKey = (id: number): string => `product:${id}`

const ADJECTIVES = ['Walnut', 'Linen', 'Copper', 'Oak', 'Wool', 'Ceramic', 'Brass', 'Canvas', 'Marble', 'Cork']
const THINGS = ['desk lamp', 'notebook', 'kettle', 'side table', 'blanket']

/**
 * The origin's database: a products table in SQLite (better-sqlite3), seeded with the demo Worker's 50 products,
 * counting the queries that reach it.
 */
export class Catalogue {
  readonly #db: Database.Database
  readonly #one: Database.Statement<[number], Product>
  readonly #update: Database.Statement<[number, number, string, number], Product>
  #queries = 0

  /** `file`: a path (several servers may open the same one) or ':memory:'. */
  constructor(file = ':memory:', size = 50) {
    this.#db = new Database(file)
    this.#db.pragma('journal_mode = WAL')
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER NOT NULL, stock INTEGER NOT NULL, version INTEGER NOT NULL, updatedAt TEXT NOT NULL)',
    )
    const insert = this.#db.prepare('INSERT OR IGNORE INTO products VALUES (?, ?, ?, ?, 1, ?)')
    const start = new Date(Date.parse('2026-01-01T00:00:00Z')).toISOString()
    this.#db.transaction(() => {
      for (let id = 1; id <= size; id++) {
        const name = `${ADJECTIVES[(id - 1) % ADJECTIVES.length]} ${THINGS[Math.floor((id - 1) / ADJECTIVES.length) % THINGS.length]}`
        insert.run(id, name, 900 + ((id * 737) % 9100), (id * 13) % 40, start)
      }
    })()
    this.#one = this.#db.prepare('SELECT * FROM products WHERE id = ?')
    this.#update = this.#db.prepare('UPDATE products SET price = ?, stock = ?, version = version + 1, updatedAt = ? WHERE id = ? RETURNING *')
  }

  /** Queries that reached the database since it was opened here. */
  get queries(): number {
    return this.#queries
  }

  product(id: number): Product | null {
    this.#queries++
    return this.#one.get(id) ?? null
  }

  /** One query for several ids: products aligned with `ids`, null where there is none. */
  products(ids: readonly number[]): (Product | null)[] {
    this.#queries++
    const rows = this.#db.prepare(`SELECT * FROM products WHERE id IN (${ids.map(() => '?').join(',')})`).all(...ids) as Product[]
    const byId = new Map(rows.map((row) => [row.id, row]))
    return ids.map((id) => byId.get(id) ?? null)
  }

  /** Changes price and stock (bumping the version); null when there is no such id. */
  update(id: number, change: Partial<Pick<Product, 'price' | 'stock'>>): Product | null {
    const current = this.#one.get(id)
    if (current === undefined) return null
    return this.#update.get(change.price ?? current.price, change.stock ?? current.stock, new Date().toISOString(), id) ?? null
  }

  close(): void {
    this.#db.close()
  }
}
