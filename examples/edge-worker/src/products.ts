// The origin's data: the products table in D1 (migrations/0001_products.sql), what the Worker answers without a
// cache. ORIGIN_DELAY_MS adds an artificial delay before each query so that the tiers in front stay visible.

export interface Product {
  id: string
  name: string
  cents: number
}

/** What the origin needs from the Worker's env. */
export interface OriginEnv {
  /** The D1 database (wrangler.jsonc `d1_databases`, binding DB). */
  DB: D1Database
  /** Milliseconds to wait before each query; a range 'min-max' waits a random time within it. @default no delay */
  ORIGIN_DELAY_MS?: string
}

/** The product with this id, or null. */
export async function findProduct(env: OriginEnv, id: string): Promise<Product | null> {
  await originDelay(env)
  return env.DB.prepare('SELECT id, name, cents FROM products WHERE id = ?').bind(id).first<Product>()
}

/** Sets a product's price; false when there is no such product. */
export async function setPrice(env: OriginEnv, id: string, cents: number): Promise<boolean> {
  const result = await env.DB.prepare('UPDATE products SET cents = ? WHERE id = ?').bind(cents, id).run()
  return result.meta.changes > 0
}

async function originDelay(env: OriginEnv): Promise<void> {
  const range = /^(\d+)(?:-(\d+))?$/.exec(env.ORIGIN_DELAY_MS ?? '')
  if (range === null) return
  const min = Number(range[1])
  const max = range[2] === undefined ? min : Number(range[2])
  const ms = min + Math.random() * Math.max(0, max - min)
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms))
}
