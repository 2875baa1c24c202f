/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'map',
  label: 'async Map (baseline)',
  packages: [],
  swr: 'a plain Map has no expiry',
  usage: 'async fn: `let v = map.get(k); if (v === undefined) { v = await load(k); map.set(k, v) } return v` (no ttl, no coalescing)',
  async probe() {},
  async create({ load }) {
    const map = new Map()
    return {
      async getOrSet(key) {
        let value = map.get(key)
        if (value === undefined) {
          value = await load(key)
          map.set(key, value)
        }
        return value
      },
    }
  },
}
