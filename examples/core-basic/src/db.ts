/** A stand-in for a slow database: 50 products, each query takes `latencyMs`. */
export interface Product {
  id: number
  name: string
  price: number
}

export function createSlowDb(latencyMs = 30) {
  const products = new Map<number, Product>(
    Array.from({ length: 50 }, (_, i) => [i + 1, { id: i + 1, name: `Product ${i + 1}`, price: 10 + i }]),
  )
  const calls = { product: 0, products: 0 }
  let failing = false
  const wait = () => new Promise((resolve) => setTimeout(resolve, latencyMs))
  return {
    calls,
    /** Makes every query fail, as an origin outage would. */
    fail(on: boolean) {
      failing = on
    },
    async product(id: number): Promise<Product | undefined> {
      calls.product++
      await wait()
      if (failing) throw new Error('database unavailable')
      return products.get(id)
    },
    async products(ids: number[]): Promise<(Product | undefined)[]> {
      calls.products++
      await wait()
      if (failing) throw new Error('database unavailable')
      return ids.map((id) => products.get(id))
    },
    update(id: number, patch: Partial<Product>) {
      const product = products.get(id)
      if (product) products.set(id, { ...product, ...patch })
    },
  }
}
