/** @type {typeof import('cacheable').Cacheable} */
let Cacheable

/** @type {import('./types.mjs').Adapter} */
export default {
  id: 'cacheable',
  label: 'cacheable (default memory)',
  packages: ['cacheable'],
  swr: 'no stale-while-revalidate: an entry past its ttl is a miss (only tag staleness and secondary-store options)',
  usage: '`cacheable.getOrSet(k, () => load(k), { ttl })` on `new Cacheable({ ttl })` (default in-memory primary, unbounded)',
  async probe() {
    ;({ Cacheable } = await import('cacheable'))
  },
  async create({ ttlMs, load }) {
    const cacheable = new Cacheable({ ttl: ttlMs })
    const options = { ttl: ttlMs }
    return {
      getOrSet: (key) => cacheable.getOrSet(key, () => load(key), options),
      close: () => cacheable.disconnect(),
    }
  },
}
