/** @type {typeof import('cache-manager').createCache} */
let createCache

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'cache-manager',
  label: 'cache-manager (default Keyv memory)',
  packages: ['cache-manager', 'keyv'],
  swr: true,
  usage: '`cm.wrap(k, () => load(k), ttl)` on `createCache({ ttl })` (default in-memory Keyv store, unbounded); for stale reads it has no serve-after-expiry, so the swr window is mapped onto its refresh-ahead: `wrap(k, fn, { ttl: ttl + swr, refreshThreshold: swr })`',
  async probe() {
    ;({ createCache } = await import('cache-manager'))
  },
  async create({ ttlMs, swrMs, load }) {
    const cm = createCache({ ttl: ttlMs })
    const close = () => cm.disconnect()
    if (swrMs === undefined) {
      return { getOrSet: (key) => cm.wrap(key, () => load(key), ttlMs), close }
    }
    const options = { ttl: ttlMs + swrMs, refreshThreshold: swrMs }
    return { getOrSet: (key) => cm.wrap(key, () => load(key), options), close }
  },
}
