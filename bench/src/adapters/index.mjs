// The libraries every in-process scenario measures, in table order. The baseline comes first.
import map from './map.mjs'
import tiercache from './tiercache.mjs'
import lruGet from './lru-cache-get.mjs'
import lruFetch from './lru-cache-fetch.mjs'
import cachified from './cachified.mjs'
import bentocache from './bentocache.mjs'
import cacheManager from './cache-manager.mjs'
import cacheable from './cacheable.mjs'
import unkey from './unkey.mjs'

/** @type {import('./types.mjs').Adapter[]} */
export const allAdapters = [map, tiercache, lruGet, lruFetch, cachified, bentocache, cacheManager, cacheable, unkey]

/**
 * @typedef {object} Loaded
 * @property {import('./types.mjs').Adapter[]} adapters   importable, in table order
 * @property {Array<{ adapter: import('./types.mjs').Adapter, reason: string }>} skipped
 */

/** @type {Loaded | undefined} */
let loaded

/**
 * Import every library once; the ones that fail to import are skipped with the reason.
 * @returns {Promise<Loaded>}
 */
export async function loadAdapters() {
  if (loaded) return loaded
  /** @type {Loaded['adapters']} */
  const adapters = []
  /** @type {Loaded['skipped']} */
  const skipped = []
  for (const adapter of allAdapters) {
    try {
      await adapter.probe()
      adapters.push(adapter)
    } catch (error) {
      skipped.push({ adapter, reason: firstLine(error) })
    }
  }
  loaded = { adapters, skipped }
  return loaded
}

/** @param {string} id */
export function adapterById(id) {
  const adapter = allAdapters.find((a) => a.id === id)
  if (!adapter) throw new Error(`unknown adapter ${id}`)
  return adapter
}

/** @param {unknown} error */
function firstLine(error) {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  return text.split('\n')[0] ?? text
}
